//! Issue 13 item 3: a finding reads back from the JSON report exactly as it was written,
//! and `Merger` joins reports — de-duplicated, grouped across repositories, stats summed,
//! reports of other versions or configurations refused by name.

mod common;
mod source_support;
mod support_git;

use std::path::Path;

use scanner_core::report::{
    self, ConfigDigest, Format, MergeError, Merger, Report, ReportOptions, RunStats, ScanError,
};
use scanner_core::source::git::{self, HistoryOptions};
use scanner_core::{Finding, Problem, Scanner};
use serde_json::Value;
use support_git::Repo;

const SHOW: ReportOptions = ReportOptions {
    show_secrets: true,
    color: false,
};
const REDACT: ReportOptions = ReportOptions {
    show_secrets: false,
    color: false,
};

/// Everything `testdata/` holds (JWTs, kubeconfigs with client keys and certificates,
/// bootstrap tokens, registry credentials, Slack, base64 in Secrets ...) and a history scan
/// with a renamed blob (`git`, `also_in`).
fn findings() -> Vec<Finding> {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let mut all = source_support::scan(&testdata).findings;
    let scanner = Scanner::new();
    let at = |p: &str| scanner_core::Origin::path(p);
    all.extend(scanner.scan_bytes(
        kubeconfig_with_certificate().as_bytes(),
        &at(".kube/config"),
    ));
    // Binary content: a byte range instead of lines (SARIF byteLength).
    let mut blob = b"k8s\0\x12\x06Secret\x12".to_vec();
    blob.extend_from_slice(common::legacy_token("kube-system", "admin", "admin-x9").as_bytes());
    blob.extend_from_slice(b"\x1a\0");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret.pb"), blob).unwrap();
    all.extend(source_support::scan(dir.path()).findings);
    let repo = Repo::new();
    let token = common::legacy_token("ci", "deployer", "deployer-token-q8x2k");
    repo.write("deploy/ci.env", &format!("TOKEN={token}\n"));
    repo.commit("add ci env");
    repo.mv("deploy/ci.env", "ops/ci.env");
    repo.commit("move it");
    let ev = source_support::Collect::default();
    git::scan_history(
        repo.path(),
        &Scanner::new(),
        &HistoryOptions::default(),
        &ev,
    )
    .unwrap();
    let mut history = ev.findings.into_inner().unwrap();
    for f in &mut history {
        f.repository = Some("https://git.example/org/app.git".into());
    }
    all.extend(history);
    all
}

/// A kubeconfig user with a client key and its certificate (CN, O, expiry, SHA-256).
fn kubeconfig_with_certificate() -> String {
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    use rcgen::{CertificateParams, DnType, KeyPair};
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "kubernetes-admin");
    p.distinguished_name
        .push(DnType::OrganizationName, "system:masters");
    let cert = p.self_signed(&key).unwrap();
    format!(
        "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    \
         client-certificate-data: {}\n    client-key-data: {}\n",
        B64.encode(cert.pem()),
        B64.encode(key.serialize_pem())
    )
}

fn json(findings: Vec<Finding>, opts: &ReportOptions, digest: &str) -> Vec<u8> {
    let report = Report {
        findings,
        config_digest: Some(digest.to_owned()),
        ..Report::default()
    };
    let mut out = Vec::new();
    report::write_json(&mut out, &report, opts).unwrap();
    out
}

fn parse_findings(doc: &[u8]) -> Vec<Finding> {
    let doc: Value = serde_json::from_slice(doc).unwrap();
    serde_json::from_value(doc["findings"].clone()).expect("findings read back")
}

#[test]
fn every_finding_reads_back_as_it_was_written() {
    let original = findings();
    let kinds: std::collections::BTreeSet<&str> =
        original.iter().map(|f| f.rule_id.as_str()).collect();
    for rule in [
        "k8s-sa-token-legacy",
        "kubeconfig-client-key",
        "k8s-bootstrap-token",
    ] {
        assert!(kinds.contains(rule), "{rule} missing from {kinds:?}");
    }
    assert!(original.iter().any(|f| !f.also_in.is_empty()));
    assert!(original.iter().any(|f| f.certificate.is_some()));
    assert!(original.iter().any(|f| !f.decoded_from.is_empty()));
    assert!(original.iter().any(|f| f.in_binary()));
    let digest = ConfigDigest::new().finish();

    // With --show-secrets: every field, the secret included.
    let shown = json(original.clone(), &SHOW, &digest);
    let back = parse_findings(&shown);
    assert_eq!(back.len(), original.len());
    for (a, b) in original.iter().zip(&back) {
        assert_eq!(
            serde_json::to_value(a).unwrap(),
            serde_json::to_value(b).unwrap()
        );
        assert_eq!(a.secret.expose(), b.secret.expose());
        assert_eq!(a.byte_length, b.byte_length);
        assert!(a.byte_length > 0 && !b.secret.is_redacted());
    }
    // Written again, the document is the same byte for byte (remediation included).
    assert_eq!(json(back, &SHOW, &digest), shown);

    // Redacted: it stays redacted, even when written with --show-secrets.
    let redacted = json(original.clone(), &REDACT, &digest);
    let back = parse_findings(&redacted);
    for (a, b) in original.iter().zip(&back) {
        assert!(b.secret.is_redacted(), "{}", b.secret);
        assert_eq!(b.secret.redacted(), a.secret.redacted());
        assert_ne!(b.secret.expose(), a.secret.expose());
    }
    assert_eq!(json(back, &SHOW, &digest), redacted);
}

/// A JSON report of `findings` in `repo`, with stats and one error, as a shard writes it.
fn shard(findings: &[Finding], repo: &str, files: u64, digest: &str) -> Vec<u8> {
    let mut findings = findings.to_vec();
    for f in &mut findings {
        f.repository = Some(repo.to_owned());
    }
    let report = Report {
        findings,
        stats: RunStats {
            files,
            bytes: files * 100,
            commits: Some(2),
            skipped: 1,
            complete: true,
            skipped_by_reason: [("symlink".to_owned(), 1)].into(),
            ..RunStats::default()
        },
        errors: vec![ScanError {
            path: "link".into(),
            kind: Problem::Symlink,
            message: "not followed".into(),
            repository: Some(repo.to_owned()),
        }],
        config_digest: Some(digest.to_owned()),
    };
    let mut out = Vec::new();
    report::write_json(&mut out, &report, &SHOW).unwrap();
    out
}

fn merge(reports: &[(&str, &[u8])], format: Format) -> Result<(String, Value), MergeError> {
    let mut m = Merger::new(format, REDACT).unwrap();
    for (name, r) in reports {
        m.add_bytes(name, r)?;
    }
    let mut out = Vec::new();
    let summary = m.finish(&mut out)?;
    let s = &summary.stats;
    let summary = serde_json::json!({
        "reports": summary.reports, "duplicates": summary.duplicates, "errors": summary.errors,
        "findings": s.findings, "credentials": s.credentials, "files": s.files,
        "commits": s.commits, "skipped": s.skipped_by_reason.get("symlink"),
    });
    Ok((String::from_utf8(out).unwrap(), summary))
}

fn token_findings(text: &str, path: &str) -> Vec<Finding> {
    Scanner::new().scan_bytes(text.as_bytes(), &scanner_core::Origin::path(path))
}

#[test]
fn one_token_in_three_repositories_is_one_credential_and_duplicates_count_once() {
    let shared = common::legacy_token("prod", "deployer", "deployer-token-77abc");
    let own = common::legacy_token("dev", "builder", "builder-token-12xyz");
    let s = token_findings(&format!("TOKEN={shared}\n"), "ci.env");
    let o = token_findings(&format!("KUBE_TOKEN={own}\n"), "deploy/env.sh");
    assert_eq!((s.len(), o.len()), (1, 1));
    let d = ConfigDigest::new().finish();
    let a = shard(&s, "https://git.example/a", 3, &d);
    let b = shard(
        &[s.clone(), o.clone()].concat(),
        "https://git.example/b",
        4,
        &d,
    );
    let c = shard(&s, "https://git.example/c", 5, &d);
    let (text, sum) = merge(
        &[("a", &a), ("b", &b), ("c", &c), ("a again", &a)],
        Format::Text,
    )
    .expect("merge");
    assert_eq!(sum["reports"], 4);
    assert_eq!(sum["duplicates"], 1, "the report given twice");
    assert_eq!(
        (sum["findings"].as_u64(), sum["credentials"].as_u64()),
        (Some(4), Some(2))
    );
    // Stats are the sums of the reports' (the repeated one too: stats cannot be told apart).
    assert_eq!(
        (sum["files"].as_u64(), sum["commits"].as_u64()),
        (Some(15), Some(8))
    );
    assert_eq!(sum["skipped"], 4);
    assert_eq!(sum["errors"], 3, "one per repository; the exact copy once");
    let id = &s[0].credential_id;
    assert!(
        text.contains(&format!("credential {id}: 3 locations in 3 repositories")),
        "{text}"
    );
    assert!(text.contains("2 credentials in 4 locations"), "{text}");
    for repo in ["a", "b", "c"] {
        assert!(
            text.contains(&format!("    https://git.example/{repo}  ci.env:1:7")),
            "{text}"
        );
    }
    assert!(
        text.contains("  https://git.example/b: link: not followed (symlink)"),
        "{text}"
    );
    // The reports held raw secrets; the merge redacts them.
    assert!(!text.contains(&shared) && !text.contains(&own));
    assert!(text.contains("[REDACTED"));

    let (doc, _) = merge(&[("a", &a), ("b", &b), ("c", &c)], Format::Json).unwrap();
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["config_digest"], d.as_str());
    assert_eq!(doc["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["stats"]["findings"], 4);
    assert_eq!(doc["stats"]["skipped_by_reason"]["symlink"], 3);
    // Every shard's error is kept and still names its repository.
    let errors: Vec<(&str, &str)> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["repository"].as_str().unwrap(),
                e["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("https://git.example/a", "link"),
            ("https://git.example/b", "link"),
            ("https://git.example/c", "link")
        ]
    );
    let repos: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["repository"].as_str().unwrap())
        .collect();
    assert_eq!(
        repos,
        [
            "https://git.example/a",
            "https://git.example/b",
            "https://git.example/b",
            "https://git.example/c"
        ]
    );
    assert!(!doc.to_string().contains(&shared));
    // A merged report merges again, to the same findings.
    let merged = serde_json::to_vec(&doc).unwrap();
    let (again, _) = merge(&[("merged", &merged)], Format::Json).unwrap();
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["findings"], doc["findings"]);
}

#[test]
fn reports_of_other_versions_or_configurations_are_refused_by_name() {
    let s = token_findings(
        &format!(
            "TOKEN={}\n",
            common::legacy_token("a", "b", "b-token-x1y2z")
        ),
        "ci.env",
    );
    let d = ConfigDigest::new().finish();
    let a = shard(&s, "r1", 1, &d);
    let strict = ConfigDigest::new().option("min-severity", "high").finish();
    let other = shard(&s, "r2", 1, &strict);
    let err = merge(
        &[("shard-0.json", &a), ("shard-1.json", &other)],
        Format::Json,
    )
    .unwrap_err();
    assert!(matches!(err, MergeError::Config { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("shard-1.json") && msg.contains("shard-0.json"),
        "{msg}"
    );
    assert!(msg.contains("another configuration"), "{msg}");

    let edit = |r: &[u8], f: &dyn Fn(&mut Value)| {
        let mut v: Value = serde_json::from_slice(r).unwrap();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let newer = edit(&a, &|v| v["tool"]["version"] = "9.9.9".into());
    let err = merge(&[("shard-0.json", &a), ("new.json", &newer)], Format::Json).unwrap_err();
    assert!(matches!(err, MergeError::Version { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("leakscan 9.9.9") && msg.contains("new.json"),
        "{msg}"
    );
    let err = merge(&[("new.json", &newer)], Format::Json).unwrap_err();
    assert!(matches!(err, MergeError::NotThisVersion { .. }), "{err:?}");

    let old = edit(&a, &|v| {
        let o = v.as_object_mut().unwrap();
        o.remove("tool");
        o.remove("config_digest");
    });
    let err = merge(&[("old.json", &old)], Format::Json).unwrap_err();
    assert!(matches!(err, MergeError::Unversioned { .. }), "{err:?}");
    assert!(err.to_string().contains("old.json"), "{err}");

    // JSONL, a SARIF log, a broken finding: not a JSON report, and the message says so.
    let mut jsonl = Vec::new();
    report::write_jsonl_finding(&mut jsonl, &s[0], &REDACT).unwrap();
    let broken = edit(&a, &|v| v["findings"][0]["line"] = "one".into());
    for (name, r) in [("x.jsonl", jsonl), ("broken.json", broken)] {
        let err = merge(&[(name, &r)], Format::Json).unwrap_err();
        assert!(matches!(err, MergeError::Parse { .. }), "{name}: {err:?}");
        assert!(
            err.to_string().contains("is not a leakscan JSON report"),
            "{err}"
        );
    }
    assert!(matches!(
        merge(&[], Format::Json),
        Err(MergeError::NoReports)
    ));
}
