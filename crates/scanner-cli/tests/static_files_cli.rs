//! Issue 9 item 3 through the real binary: the static-file rules are listed by `leakscan
//! rules`, described in SARIF `tool.driver.rules`, and a control-plane directory laid out as
//! kube-up left it reports its rows with their severity, redacted.

mod support_cli;

use serde_json::Value;
use support_cli::{json_of, leakscan, leakscan_in};

const NOW: &str = "2025-01-01T00:00:00Z";

/// A generated token and password (as `openssl rand -hex 16` and kube-up print them).
const TOKEN: &str = "5c1f0e9a7b3d42c88e6f1a2b9d4c7e30";
const TOKEN_2: &str = "d93a61b0f4e2c7158a0b3e9f6c2d4a71";
const PASSWORD: &str = "Rk4vT9qWm2ZpX7bN";

/// `/srv/kubernetes` of a kube-up master: the token file, the basic-auth file, and the
/// script that wrote them.
fn control_plane() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let srv = dir.path().join("srv/kubernetes");
    std::fs::create_dir_all(&srv).unwrap();
    std::fs::write(
        srv.join("known_tokens.csv"),
        format!("{TOKEN},admin,admin,system:masters\n{TOKEN_2},kubelet,kubelet,system:nodes\n"),
    )
    .unwrap();
    std::fs::write(
        srv.join("basic_auth.csv"),
        format!("{PASSWORD},admin,admin,system:masters\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("make-tokens.sh"),
        "#!/bin/bash\necho \"${KUBE_BEARER_TOKEN},admin,admin,system:masters\" > /srv/kubernetes/known_tokens.csv\necho \"${KUBE_PASSWORD},admin,admin,system:masters\" > /srv/kubernetes/basic_auth.csv\n",
    )
    .unwrap();
    dir
}

#[test]
fn rules_lists_the_static_file_rules() {
    let out = leakscan(&["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for (id, what) in [
        ("k8s-static-token", "--token-auth-file"),
        ("k8s-static-password", "--basic-auth-file"),
    ] {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} missing from `leakscan rules`:\n{text}"));
        assert_eq!(line.split_whitespace().nth(1), Some("high"), "{line}");
        assert!(line.contains(what), "{line}");
    }
}

#[test]
fn sarif_describes_the_rules_and_reports_the_rows_redacted() {
    let dir = control_plane();
    let out = leakscan_in(dir.path(), &["scan", "--now", NOW, "-f", "sarif", "."]);
    assert_eq!(out.status.code(), Some(1), "findings exit 1");
    let sarif = json_of(&out);
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for id in ["k8s-static-token", "k8s-static-password"] {
        let r = rules
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} not in tool.driver.rules"));
        assert_eq!(r["defaultConfiguration"]["level"], "error");
        assert_eq!(r["properties"]["security-severity"], "8.0");
        assert!(r["help"]["text"]
            .as_str()
            .unwrap()
            .contains("restart kube-apiserver"));
    }
    let mut results: Vec<(String, String, u64, String)> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                loc["artifactLocation"]["uri"].as_str().unwrap().to_owned(),
                loc["region"]["startLine"].as_u64().unwrap(),
                r["properties"]["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    results.sort();
    assert_eq!(
        results,
        [
            (
                "k8s-static-password".into(),
                "srv/kubernetes/basic_auth.csv".into(),
                1,
                "critical".into()
            ),
            (
                "k8s-static-token".into(),
                "srv/kubernetes/known_tokens.csv".into(),
                1,
                "critical".into()
            ),
            (
                "k8s-static-token".into(),
                "srv/kubernetes/known_tokens.csv".into(),
                2,
                "high".into()
            ),
        ]
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for secret in [TOKEN, TOKEN_2, PASSWORD] {
        assert!(
            !text.contains(secret),
            "{secret} shown without --show-secrets"
        );
    }
    assert!(text.contains("of user admin, groups system:masters"));
}

#[test]
fn json_names_the_user_and_the_script_with_variables_is_silent() {
    let dir = control_plane();
    let out = leakscan_in(
        dir.path(),
        &["scan", "--now", NOW, "-f", "json", "--show-secrets", "."],
    );
    let doc: Value = json_of(&out);
    let found: Vec<(&str, &str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["secret"].as_str().unwrap(),
                f["description"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().all(|f| f.0 != "make-tokens.sh"), "{found:?}");
    assert!(found.contains(&(
        "srv/kubernetes/known_tokens.csv",
        TOKEN_2,
        "kube-apiserver static token (--token-auth-file) of user kubelet, groups system:nodes"
    )));
}
