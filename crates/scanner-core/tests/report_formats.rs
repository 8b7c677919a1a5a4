//! Reports as users and GitHub consume them: SARIF valid against the official 2.1.0 schema
//! and shaped for code scanning; JSON/JSONL field names; text for people; secrets redacted.

mod common;

use std::path::PathBuf;

use scanner_core::report::{self, Report, ReportOptions, RunStats, ScanError};
use scanner_core::{Finding, GitInfo, Origin, Scanner};
use serde_json::Value;

fn findings() -> (Vec<Finding>, Vec<String>) {
    let scanner = Scanner::builder().now(1_735_689_600).build().unwrap();
    let legacy = common::legacy_token("kube-system", "admin", "admin-token-abcde");
    let bound = common::bound_token(
        "prod",
        "web",
        "web-1",
        "https://kubernetes.default.svc",
        1_800_000_000,
        3600,
    );
    let mut out = scanner.scan_bytes(
        format!("TOKEN={legacy}\n").as_bytes(),
        &Origin::path("deploy/env.sh"),
    );
    out.extend(scanner.scan_bytes(
        format!("x\nAuthorization: Bearer {bound}\n").as_bytes(),
        &Origin::path("logs.zip!/ci run/build log.txt"),
    ));
    let mut git_origin = Origin::path("k8s/secret.yaml");
    git_origin.git = Some(GitInfo {
        commit: "4b825dc642cb6eb9a060e54bf8d69288fbee4904".into(),
        author_name: "Mallory Example".into(),
        author_email: "mallory@example.com".into(),
        date: "2024-03-12T10:15:00Z".into(),
        message: "add deploy secret".into(),
    });
    out.extend(scanner.scan_bytes(format!("token: {legacy}\n").as_bytes(), &git_origin));
    // A finding of a custom rule from a leakscan.toml.
    let config = scanner_core::config::Config::parse(
        r#"
[[custom]]
id = "acme-internal-token"
description = "ACME internal API token"
regex = 'acmeint_[A-Za-z0-9]{24}'
keywords = ["acmeint_"]
severity = "medium"
"#,
        "leakscan.toml".as_ref(),
    )
    .unwrap();
    let configured = Scanner::builder().config(config).build().unwrap();
    out.extend(configured.scan_bytes(
        b"ACME_TOKEN=acmeint_Q7wE9rT2yU4iO6pA8sD0fG1h\n",
        &Origin::path("deploy/env.sh"),
    ));
    (out, vec![legacy, bound])
}

fn report() -> (Report, Vec<String>) {
    let (findings, secrets) = findings();
    let report = Report {
        stats: RunStats {
            files: 3,
            bytes: 4096,
            ..RunStats::default()
        },
        errors: vec![ScanError {
            path: "broken.zip".into(),
            kind: scanner_core::Problem::CorruptArchive,
            message: "invalid central directory".into(),
            repository: None,
        }],
        findings,
        config_digest: None,
    };
    (report, secrets)
}

fn render(
    f: fn(&mut dyn std::io::Write, &Report, &ReportOptions) -> std::io::Result<()>,
    show: bool,
) -> (String, Vec<String>) {
    let (r, secrets) = report();
    let mut buf = Vec::new();
    f(
        &mut buf,
        &r,
        &ReportOptions {
            show_secrets: show,
            color: false,
        },
    )
    .unwrap();
    (String::from_utf8(buf).unwrap(), secrets)
}

fn schema_path() -> Option<PathBuf> {
    common::thirdparty("sarif-schema-2.1.0.json")
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let Some(path) = schema_path() else { return };
    let schema_text = std::fs::read_to_string(&path).unwrap();
    let schema: Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("schema compiles");
    let (out, _) = render(report::write_sarif, false);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );

    // A broken document must fail, or the check above proves nothing.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(!validator.is_valid(&broken));
}

#[test]
fn sarif_is_shaped_for_github_code_scanning() {
    let (out, secrets) = render(report::write_sarif, false);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "leakscan");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut dedup = ids.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), ids.len(), "duplicate rules: {ids:?}");
    // The custom rule is listed with its configured severity, and its result points at it.
    let custom = rules
        .iter()
        .find(|r| r["id"] == "acme-internal-token")
        .unwrap();
    assert_eq!(
        custom["shortDescription"]["text"],
        "ACME internal API token"
    );
    assert_eq!(custom["properties"]["security-severity"], "5.5");
    for r in rules {
        assert!(r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .is_ok());
        assert!(r["shortDescription"]["text"].is_string());
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for res in results {
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        assert_eq!(
            res["partialFingerprints"]["leakscanFingerprint/v1"]
                .as_str()
                .unwrap()
                .len(),
            32
        );
    }
    assert_eq!(results[3]["ruleId"], "acme-internal-token");
    assert_eq!(results[3]["level"], "warning");
    assert_eq!(
        results[3]["locations"][0]["physicalLocation"]["region"]["startColumn"],
        12
    );
    assert_eq!(results[0]["ruleId"], "k8s-sa-token-legacy");
    assert_eq!(results[0]["level"], "error");
    let loc = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "deploy/env.sh");
    assert_eq!(loc["region"]["startLine"], 1);
    assert_eq!(loc["region"]["startColumn"], 7);
    assert_eq!(
        results[0]["properties"]["token"]["namespace"],
        "kube-system"
    );
    assert_eq!(
        results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "logs.zip!/ci%20run/build%20log.txt"
    );
    assert_eq!(
        results[2]["properties"]["commit"],
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    );
    assert_eq!(
        results[2]["properties"]["author_email"],
        "mallory@example.com"
    );
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes[0]["descriptor"]["id"], "corrupt-archive");
    for s in &secrets {
        assert!(!out.contains(s.as_str()), "raw secret in redacted SARIF");
    }
    let (shown, secrets) = render(report::write_sarif, true);
    assert!(shown.contains(secrets[0].as_str()));
}

#[test]
fn json_fields_and_redaction() {
    let (out, secrets) = render(report::write_json, false);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
    let f = &doc["findings"][0];
    assert_eq!(f["rule_id"], "k8s-sa-token-legacy");
    assert_eq!(f["severity"], "critical");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(1), Some(7))
    );
    assert_eq!(f["path"], "deploy/env.sh");
    assert_eq!(f["token"]["service_account"], "admin");
    assert_eq!(f["token"]["signature"], "unverified");
    assert_eq!(f["decoded_from"], Value::Array(vec![]));
    assert!(f["secret"].as_str().unwrap().contains("REDACTED"));
    assert_eq!(doc["findings"][2]["git"]["author_name"], "Mallory Example");
    assert_eq!(doc["stats"]["files"], 3);
    assert_eq!(doc["errors"][0]["kind"], "corrupt-archive");
    for s in &secrets {
        assert!(!out.contains(s.as_str()));
    }
    let (shown, secrets) = render(report::write_json, true);
    let doc: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(doc["findings"][0]["secret"], secrets[0].as_str());
}

#[test]
fn jsonl_is_one_object_per_line() {
    let (r, secrets) = report();
    let mut buf = Vec::new();
    for f in &r.findings {
        report::write_jsonl_finding(&mut buf, f, &ReportOptions::default()).unwrap();
    }
    let text = String::from_utf8(buf).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), r.findings.len());
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap();
        assert!(v["fingerprint"].is_string());
    }
    assert!(!text.contains(secrets[1].as_str()));
}

#[test]
fn text_is_grouped_and_redacted() {
    let (out, secrets) = render(report::write_text, false);
    // One heading per credential, then where it is.
    assert!(out.starts_with("critical k8s-sa-token-legacy"), "{out}");
    assert!(out.contains("\n    deploy/env.sh:1:7"), "{out}");
    assert!(
        out.contains("kube-system/admin, legacy (never expires)"),
        "{out}"
    );
    assert!(
        out.contains("prod/web, bound, expires 2027-01-15T09:00:00Z, pod web-1"),
        "{out}"
    );
    assert!(
        out.contains("commit 4b825dc642 by Mallory Example <mallory@example.com>"),
        "{out}"
    );
    assert!(
        out.contains("1 input could not be (fully) scanned"),
        "{out}"
    );
    assert!(!out.contains('\x1b'));
    for s in &secrets {
        assert!(!out.contains(s.as_str()));
    }
}
