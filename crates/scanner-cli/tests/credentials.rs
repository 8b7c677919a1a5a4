//! Issue 12 item 1: one credential, many places. Every finding carries a `credential_id`
//! derived from the secret alone; the text report groups locations under one heading per
//! credential, with the first and last commit for history; the summary counts both.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;
use support_cli::{json_of, leakscan, leakscan_in, stderr};
use support_git::Repo;

/// A home directory and a checkout holding one legacy token three times (one of them
/// base64 in a Secret) and a bound token once.
fn tree(legacy: &str, bound: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("deploy")).unwrap();
    std::fs::write(p.join(".env"), format!("KUBE_TOKEN={legacy}\n")).unwrap();
    std::fs::write(
        p.join("deploy/secret.yaml"),
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: deployer-token-m4n8z\n  namespace: ci\n\
             type: kubernetes.io/service-account-token\ndata:\n  token: {}\n",
            STANDARD.encode(legacy)
        ),
    )
    .unwrap();
    std::fs::write(
        p.join("ci.log"),
        format!("step 3: curl -H 'Authorization: Bearer {legacy}' https://10.0.0.1:6443/api\nstep 4: {bound}\n"),
    )
    .unwrap();
    dir
}

fn tokens() -> (String, String) {
    let legacy = common::legacy_token("ci", "deployer", "deployer-token-m4n8z");
    let bound = common::bound_token(
        "apps",
        "api",
        "api-7d9f8c6b5-x2k4q",
        "https://kubernetes.default.svc.cluster.local",
        4_000_000_000,
        3600,
    );
    (legacy, bound)
}

#[test]
fn json_and_sarif_carry_one_id_per_credential() {
    let (legacy, bound) = tokens();
    let dir = tree(&legacy, &bound);
    let out = leakscan_in(
        dir.path(),
        &["scan", ".", "--format", "json", "--no-progress"],
    );
    let doc = json_of(&out);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 4, "{doc:#}");
    let id_of = |path: &str| -> String {
        let f = findings
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("{path}: {doc:#}"));
        f["credential_id"].as_str().unwrap().to_owned()
    };
    let legacy_id = id_of(".env");
    assert_eq!(legacy_id.len(), 32);
    assert!(legacy_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        id_of("deploy/secret.yaml"),
        legacy_id,
        "decoded from base64: same credential"
    );
    let in_log: Vec<&Value> = findings.iter().filter(|f| f["path"] == "ci.log").collect();
    assert_eq!(in_log.len(), 2);
    assert!(in_log
        .iter()
        .any(|f| f["credential_id"] == legacy_id.as_str()));
    assert!(in_log
        .iter()
        .any(|f| f["credential_id"] != legacy_id.as_str() && f["rule_id"] == "k8s-sa-token-bound"));
    // Per location the fingerprint differs; the id is the credential's.
    let fps: std::collections::HashSet<&str> = findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), 4);
    assert!(!fps.contains(legacy_id.as_str()));
    assert!(!doc.to_string().contains(&legacy), "secret redacted");
    assert_eq!(doc["stats"]["findings"], 4);
    assert_eq!(doc["stats"]["credentials"], 2);

    let out = leakscan_in(
        dir.path(),
        &["scan", ".", "--format", "sarif", "--no-progress"],
    );
    let sarif = json_of(&out);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let with_id = results
        .iter()
        .filter(|r| r["properties"]["credential_id"] == legacy_id.as_str())
        .count();
    assert_eq!(with_id, 3);
    // Remediation rides along in both formats.
    let legacy_fix = findings.iter().find(|f| f["path"] == ".env").unwrap()["remediation"].clone();
    assert_eq!(
        legacy_fix["commands"][1], "kubectl -n ci delete secret deployer-token-m4n8z",
        "{legacy_fix:#}"
    );
    assert!(results
        .iter()
        .all(|r| r["properties"]["remediation"]["summary"].is_string()));
}

#[test]
fn the_text_report_groups_locations_under_their_credential() {
    let (legacy, bound) = tokens();
    let dir = tree(&legacy, &bound);
    let out = leakscan_in(
        dir.path(),
        &["scan", ".", "--format", "text", "--no-progress"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let doc = json_of(&leakscan_in(
        dir.path(),
        &["scan", ".", "--format", "json", "--no-progress"],
    ));
    let id = doc["findings"][0]["credential_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lines: Vec<&str> = text.lines().collect();
    // Critical first: the legacy token's heading, its id and its three locations.
    assert!(
        lines[0].starts_with("critical k8s-sa-token-legacy"),
        "{text}"
    );
    assert!(
        lines[0].contains("ci/deployer, legacy (never expires)"),
        "{text}"
    );
    let legacy_id = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "k8s-sa-token-legacy")
        .unwrap()["credential_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        lines[1].starts_with("  fix: Delete Secret ci/deployer-token-m4n8z"),
        "{text}"
    );
    assert_eq!(
        lines[2],
        format!("  credential {legacy_id}: 3 locations"),
        "{text}"
    );
    let at = |l: &str| l.split_whitespace().next().unwrap_or("").to_owned();
    let locations: Vec<String> = lines[3..6].iter().map(|l| at(l)).collect();
    assert_eq!(
        locations,
        [".env:1:12", "ci.log:1:40", "deploy/secret.yaml:8:10"],
        "{text}"
    );
    assert!(lines[5].contains("via base64"), "{text}");
    assert!(
        lines[7].starts_with("high     k8s-sa-token-bound"),
        "{text}"
    );
    assert!(
        lines[8].starts_with("  fix: Delete pod apps/api-7d9f8c6b5-x2k4q"),
        "{text}"
    );
    assert!(lines[9].contains(": 1 location"), "{text}");
    assert!(
        text.contains("2 credentials in 4 locations: 1 critical, 1 high"),
        "{text}"
    );
    assert!(
        !text.contains(&legacy) && !text.contains(&bound),
        "secrets redacted"
    );
    assert!(!id.is_empty());
    let summary = stderr(&out);
    assert!(summary.contains("4 findings (2 credentials)"), "{summary}");
}

#[test]
fn history_names_the_first_and_last_commit_of_a_credential() {
    let (legacy, _) = tokens();
    let repo = Repo::new();
    repo.write("deploy/a.env", &format!("TOKEN={legacy}\n"));
    let first = repo.commit("add a");
    repo.write("README.md", "nothing here\n");
    repo.commit("docs");
    repo.write("deploy/b.env", &format!("KUBE_TOKEN={legacy}\n"));
    let last = repo.commit("add b");
    let path = repo.path().to_str().unwrap();
    let out = leakscan(&["git", path, "--format", "text", "--no-progress"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let summary = text.lines().nth(2).unwrap_or_default();
    assert!(summary.contains(": 2 locations, first commit "), "{text}");
    let (a, b) = (&first[..10], &last[..10]);
    let first_at = summary.find(a).unwrap_or_else(|| panic!("{a}: {text}"));
    let last_at = summary.find(b).unwrap_or_else(|| panic!("{b}: {text}"));
    assert!(first_at < last_at, "{summary}");
    assert!(text.contains("1 credential in 2 locations"), "{text}");
}
