//! Accepting known findings: `leakscan baseline create`, `--baseline FILE`, and inline allow
//! comments, end to end with the real binary.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::path::Path;

use serde_json::Value;
use support_cli::{leakscan, stderr};
use support_git::Repo;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Runs a scan with `--format json` and returns (exit code, report).
fn scan_json(args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "json", "--no-progress"]);
    let out = leakscan(&all);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

fn kubeconfig(token: &str) -> String {
    format!("apiVersion: v1\nkind: Config\nusers:\n- name: ops\n  user:\n    token: {token}\n")
}

#[test]
fn baseline_round_trip_only_new_findings_fail() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("repo");
    std::fs::create_dir_all(tree.join("deploy")).unwrap();
    let legacy = common::legacy_token("prod", "deployer", "deployer-token-x1");
    std::fs::write(tree.join("deploy/ci.env"), format!("TOKEN={legacy}\n")).unwrap();
    std::fs::write(
        tree.join("deploy/ops.kubeconfig"),
        kubeconfig("8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c"),
    )
    .unwrap();
    let base = dir.path().join("accepted.json");

    // Made with one thread, used with two: fingerprints do not depend on scheduling.
    let out = leakscan(&[
        "baseline",
        "create",
        s(&tree),
        "-j",
        "1",
        "-q",
        "--output",
        s(&base),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&base).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["version"], 1);
    let entries = doc["findings"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{text}");
    assert_eq!(entries[0]["path"], "deploy/ci.env");
    assert_eq!(entries[0]["rule_id"], "k8s-sa-token-legacy");
    assert_eq!(entries[1]["rule_id"], "kubeconfig-token");
    assert!(
        !text.contains("8d4f1c7a9e2b") && !text.contains(&legacy[..40]),
        "secret in baseline"
    );

    let (code, report) = scan_json(&["scan", s(&tree), "-j", "2", "--baseline", s(&base)]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    assert_eq!(report["stats"]["suppressed"], 2);

    // A new secret — even the same token in a new file — is not covered by the baseline.
    std::fs::write(tree.join("deploy/copy.env"), format!("T={legacy}\n")).unwrap();
    let (code, report) = scan_json(&["scan", s(&tree), "--baseline", s(&base)]);
    assert_eq!(code, 1);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(findings[0]["path"], "deploy/copy.env");
    assert_eq!(findings[0]["line"], 1);
    assert_eq!(findings[0]["column"], 3);
    assert_eq!(report["stats"]["suppressed"], 2);

    // Re-creating the baseline over an unchanged tree rewrites the same bytes.
    std::fs::remove_file(tree.join("deploy/copy.env")).unwrap();
    let out = leakscan(&["baseline", "create", s(&tree), "-q", "--output", s(&base)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&base).unwrap(), text);
}

#[test]
fn git_baseline_survives_a_fresh_clone() {
    let r = Repo::new();
    let legacy = common::legacy_token("ci", "builder", "builder-token-q");
    r.write("ops/kube.env", &format!("KUBE_TOKEN={legacy}\n"));
    r.commit("add token");
    r.write("ops/kube.env", "KUBE_TOKEN=\n");
    r.commit("remove token");
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    let out = leakscan(&[
        "baseline",
        "create",
        "--git",
        s(r.path()),
        "-q",
        "--output",
        s(&base),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let clone = dir.path().join("clone");
    let st = std::process::Command::new("git")
        .args(["clone", "-q", s(r.path()), s(&clone)])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap();
    assert!(st.success());
    let (code, report) = scan_json(&["git", s(&clone)]);
    assert_eq!(code, 1, "without the baseline the history leak is reported");
    assert_eq!(report["findings"][0]["path"], "ops/kube.env");
    let (code, report) = scan_json(&["git", s(&clone), "--baseline", s(&base)]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["stats"]["suppressed"], 1);
}

#[test]
fn unreadable_baseline_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let out = leakscan(&["scan", s(dir.path()), "--baseline", s(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.json"), "{}", stderr(&out));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[1, 2]").unwrap();
    let out = leakscan(&["scan", s(dir.path()), "--baseline", s(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a leakscan baseline"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn inline_allow_comments_suppress_only_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let t1 = common::legacy_token("a", "one", "one-token-1");
    let t2 = common::legacy_token("b", "two", "two-token-2");
    let t3 = common::legacy_token("c", "three", "three-token-3");
    let t4 = common::legacy_token("d", "four", "four-token-4");
    let text = format!(
        "A={t1} # leakscan:allow\nB={t2} # gitleaks:allow\nC={t3}  # pragma: allowlist secret\n# leakscan:allow\nD={t4}\n"
    );
    std::fs::write(dir.path().join("tokens.env"), text).unwrap();
    let (code, report) = scan_json(&["scan", s(dir.path())]);
    assert_eq!(code, 1);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report}");
    assert_eq!(
        findings[0]["line"], 5,
        "the comment on line 4 does not cover line 5"
    );
    assert_eq!(findings[0]["token"]["service_account"], "four");
    assert_eq!(report["stats"]["suppressed"], 3);
}
