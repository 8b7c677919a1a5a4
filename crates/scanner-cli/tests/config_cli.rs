//! `--config` and `leakscan.toml` end to end with the real binary: invalid files exit 2
//! naming file:line:column, gitleaks' default rules run with skipped rules reported,
//! leakscan.toml is found at the scan root and the repository root (and `--config`
//! overrides it), allowlists count as suppressed, overrides show in JSON and SARIF.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::path::PathBuf;

use serde_json::Value;
use support_cli::{json_of as json, leakscan, leakscan_in, stderr, testdata};

/// (rule_id, path, line, column) of every finding.
fn found(doc: &Value) -> Vec<(String, String, u64, u64)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn gitleaks_default() -> Option<PathBuf> {
    common::thirdparty("gitleaks-default.toml")
}

const ACME: &str = r#"
[allowlist]
paths = ["fixtures/**"]
stopwords = ["dummy"]

[[custom]]
id = "acme-api-key"
description = "ACME API key"
regex = 'acme_[a-z0-9]{32}'
keywords = ["acme_"]
entropy = 3.0
severity = "high"
"#;

const KEY: &str = "acme_k3x9q7w2m5z8r1t4y6u0p2s5d7f9g1h3";

/// A project with one real ACME key, one in fixtures/ and one dummy.
fn project(config: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("src")).unwrap();
    std::fs::create_dir_all(p.join("fixtures")).unwrap();
    std::fs::write(
        p.join("src/client.py"),
        format!("import os\n\nAPI_KEY = \"{KEY}\"\n"),
    )
    .unwrap();
    std::fs::write(p.join("fixtures/client.env"), format!("ACME={KEY}\n")).unwrap();
    std::fs::write(
        p.join("src/test_client.py"),
        "KEY = \"acme_dummy0k3x9q7w2m5z8r1t4y6u0p2s5d7\"\n",
    )
    .unwrap();
    if let Some(c) = config {
        std::fs::write(p.join("leakscan.toml"), c).unwrap();
    }
    dir
}

#[test]
fn invalid_configs_exit_2_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "syntax",
            "[rules.jwt]\nenabled = flase\n",
            "2:11: invalid boolean",
        ),
        (
            "unknown-key",
            "[allowlist]\npaths = []\nstopword = [\"x\"]\n",
            "3:1: unknown field `stopword`",
        ),
        (
            "bad-regex",
            "[[custom]]\nid = \"a\"\nregex = 'a(b'\n",
            "3:9: invalid regex: unclosed group",
        ),
        (
            "bad-glob",
            "[allowlist]\npaths = [\"src/{a,b\"]\n",
            "2:10: invalid glob: unclosed alternate group",
        ),
        (
            "bad-severity",
            "\n[rules.private-key]\nseverity = \"severe\"\n",
            "3:12: unknown severity \"severe\"",
        ),
    ];
    for (name, text, expect) in cases {
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        let out = leakscan(&["scan", "--config", file.to_str().unwrap(), &testdata("env")]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        let want = format!("{}:{expect}", file.display());
        assert!(stderr(&out).contains(&want), "{name}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{name}: no report for a bad config");
    }
    // A missing --config file is an error too, not a silent default.
    let out = leakscan(&["scan", "--config", "/nonexistent/leakscan.toml", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/leakscan.toml"));
}

#[test]
fn gitleaks_default_rules_find_samples_and_report_skipped_rules() {
    let Some(config) = gitleaks_default() else {
        return;
    };
    let config = config.to_str().unwrap();
    let out = leakscan(&[
        "scan",
        "--no-progress",
        "--format",
        "json",
        "--config",
        config,
        &testdata("config/samples"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json(&out);
    let got: Vec<(String, u64, u64)> = found(&doc)
        .into_iter()
        .map(|(id, path, l, c)| {
            let file = path.rsplit('/').next().unwrap().to_owned();
            (format!("{id} {file}"), l, c)
        })
        .collect();
    let s = |x: &str| x.to_owned();
    assert_eq!(
        got,
        vec![
            (s("generic-api-key alerts.yaml"), 7, 25),
            (s("slack-bot-token alerts.yaml"), 7, 25),
            (s("aws-access-token deploy.env"), 4, 20),
            (s("curl-auth-header release.sh"), 4, 35),
            (s("github-pat release.sh"), 4, 35),
            (s("generic-api-key settings.py"), 5, 21),
        ]
    );
    // generic-api-key on the AWS line is allowlisted by its own rule (`key_id`).
    assert_eq!(doc["stats"]["suppressed"], 1);
    let skipped: Vec<&str> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "rule-skipped")
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(skipped[1].starts_with("pkcs12-file: path-only rule"));
    assert!(stderr(&out).contains("warning:") && stderr(&out).contains("pkcs12-file"));
    // --quiet keeps the warnings off stderr; `leakscan rules` lists the imported rules.
    let out = leakscan(&[
        "scan",
        "-q",
        "--config",
        config,
        &testdata("config/samples"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let out = leakscan(&["rules", "--config", config]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("219 custom rules from"), "{text}");
    assert!(text.contains("\ngithub-pat "), "{text}");
    assert!(text.contains("skipped private-key: "), "{text}");
}

#[test]
fn leakscan_toml_is_found_at_the_scan_root_and_config_overrides_it() {
    let dir = project(Some(ACME));
    let out = leakscan_in(dir.path(), &["scan", "-f", "json", "--no-progress", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(
        found(&doc),
        vec![("acme-api-key".to_owned(), "src/client.py".to_owned(), 3, 12)]
    );
    assert_eq!(doc["findings"][0]["severity"], "high");
    // fixtures/ by path, the dummy by stopword.
    assert_eq!(doc["stats"]["suppressed"], 2);
    // Scanning the directory from elsewhere finds the same file.
    let root = dir.path().to_str().unwrap();
    let doc = json(&leakscan(&["scan", "-f", "json", root]));
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert_eq!(doc["stats"]["suppressed"], 2);
    // --config replaces the discovered file: this one has no allowlist.
    let other = dir.path().join("strict.toml");
    std::fs::write(
        &other,
        ACME.replace("[allowlist]", "[rules.jwt]").replace(
            "paths = [\"fixtures/**\"]\nstopwords = [\"dummy\"]",
            "enabled = true",
        ),
    )
    .unwrap();
    let doc = json(&leakscan(&[
        "scan",
        "-f",
        "json",
        "--config",
        other.to_str().unwrap(),
        root,
    ]));
    let files: Vec<String> = found(&doc).into_iter().map(|f| f.1).collect();
    assert_eq!(files.len(), 3, "{files:?}");
    assert_eq!(doc["stats"]["suppressed"], 0);
    // Without a leakscan.toml the custom rule does not exist.
    let bare = project(None);
    let out = leakscan(&["scan", "-f", "json", bare.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn leakscan_toml_is_found_at_the_repository_root_for_git_scans() {
    let repo = support_git::Repo::new();
    repo.write("src/client.py", &format!("API_KEY = \"{KEY}\"\n"));
    repo.write("fixtures/client.env", &format!("ACME={KEY}\n"));
    repo.commit("client");
    let path = repo.path().to_str().unwrap();
    // Before the config exists: nothing custom to find.
    let out = leakscan(&["git", path, "-f", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    repo.write("leakscan.toml", ACME);
    let out = leakscan(&["git", path, "-f", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(
        found(&doc),
        vec![("acme-api-key".to_owned(), "src/client.py".to_owned(), 1, 12)]
    );
    assert_eq!(doc["stats"]["suppressed"], 1);
    // From a subdirectory of the work tree, `leakscan scan` finds it at the repository root.
    let out = leakscan(&["scan", "-f", "json", &format!("{path}/src")]);
    assert_eq!(found(&json(&out)).len(), 1, "{}", stderr(&out));
}

#[test]
fn disabled_rules_and_severity_overrides_show_in_json_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leakscan.toml");
    std::fs::write(
        &config,
        "[rules.jwt]\nenabled = false\n[rules.kubeconfig-password]\nseverity = \"low\"\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let inputs = [
        testdata("kubeconfig/admin.kubeconfig"),
        testdata("env/app.env"),
    ];
    let args = |format: &'static str| {
        let mut a = vec![
            "scan",
            "--now",
            "2025-01-01T00:00:00Z",
            "--config",
            config,
            "-f",
            format,
        ];
        a.extend(inputs.iter().map(String::as_str));
        a
    };
    let doc = json(&leakscan(&args("json")));
    let rules: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(!rules.iter().any(|r| r.0 == "jwt"), "{rules:?}");
    assert!(rules.contains(&("kubeconfig-password", "low")), "{rules:?}");
    assert!(rules.contains(&("kubeconfig-token", "high")), "{rules:?}");
    // app.env's application JWT is the one finding the disabled rule dropped.
    assert_eq!(doc["stats"]["suppressed"], 1);
    let sarif = json(&leakscan(&args("sarif")));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let level = |id: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == id)
            .map(|r| r["level"].as_str().unwrap().to_owned())
    };
    assert_eq!(level("kubeconfig-password").as_deref(), Some("note"));
    assert_eq!(level("kubeconfig-token").as_deref(), Some("error"));
    assert_eq!(level("jwt"), None);
    let out = leakscan(&["rules", "--config", config]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("jwt ") && l.ends_with("(disabled)")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("kubeconfig-password") && l.contains(" low ")),
        "{text}"
    );
}
