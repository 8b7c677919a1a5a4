//! The real `leakscan` binary: exit codes, formats, --output, --show-secrets, stdin, rules.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use support_cli::{leakscan, testdata};

#[test]
fn findings_exit_1_and_json_is_the_default_off_a_terminal() {
    let out = leakscan(&[
        "scan",
        "--now",
        "2025-01-01T00:00:00Z",
        &testdata("shell/bash_history"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["rule_id"], "k8s-sa-token-legacy");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(3), Some(36))
    );
    assert_eq!(f["token"]["namespace"], "kube-system");
    assert!(f["secret"].as_str().unwrap().contains("REDACTED"));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("eyJpc3Mi"),
        "payload leaked"
    );
}

#[test]
fn clean_input_exits_0_and_exit_code_is_configurable() {
    let out = leakscan(&["scan", &testdata("negatives")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = leakscan(&["scan", "--exit-code", "42", "-q", &testdata("env/app.env")]);
    assert_eq!(out.status.code(), Some(42));
    assert!(out.stderr.is_empty(), "--quiet prints nothing on stderr");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        leakscan(&["scan", "--format", "yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(leakscan(&["frobnicate"]).status.code(), Some(2));
    let out = leakscan(&["scan", "--now", "yesterday", &testdata("env")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"));
}

#[test]
fn output_file_sarif_and_show_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("out.sarif");
    let out = leakscan(&[
        "scan",
        "-f",
        "sarif",
        "--show-secrets",
        "-o",
        sarif.to_str().unwrap(),
        &testdata("manifests/bootstrap-token.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "report went to the file");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let res = &doc["runs"][0]["results"][0];
    assert_eq!(res["ruleId"], "k8s-bootstrap-token");
    assert!(res["message"]["text"]
        .as_str()
        .unwrap()
        .contains("h3n8c1.r7t2y9u4i1o6p3a5"));
    // Only the report is left behind: the temporary file was renamed into place.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("out.sarif")]);
}

#[cfg(unix)]
#[test]
fn output_to_a_fifo_writes_into_it_instead_of_replacing_it() {
    use std::os::unix::fs::FileTypeExt;
    // `-o /dev/null` must not rename a file over the device; a FIFO in a temporary
    // directory shows the same thing without risking the machine's /dev/null.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.pipe");
    let st = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(st.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = leakscan(&[
        "scan",
        "-f",
        "json",
        "-o",
        fifo.to_str().unwrap(),
        &testdata("manifests/bootstrap-token.yaml"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Checked before joining the reader, which would wait forever on a replaced FIFO.
    let meta = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(meta.file_type().is_fifo(), "the FIFO was replaced");
    let doc: Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert_eq!(doc["findings"][0]["rule_id"], "k8s-bootstrap-token");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file left behind");
}

#[test]
fn stdin_and_jsonl_streaming() {
    let tok = common::bound_token(
        "ci",
        "runner",
        "runner-0",
        "https://kubernetes.default.svc",
        1_900_000_000,
        3600,
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakscan"))
        .args(["scan", "-f", "jsonl", "--now", "2025-01-01T00:00:00Z", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("line one\ncurl -H 'Authorization: Bearer {tok}'\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["rule_id"], "k8s-sa-token-bound");
    assert_eq!(lines[0]["path"], "-");
    assert_eq!(
        (lines[0]["line"].as_u64(), lines[0]["column"].as_u64()),
        (Some(2), Some(32))
    );
    assert_eq!(lines[0]["token"]["pod"], "runner-0");
    assert_eq!(lines[0]["token"]["expired"], false);
}

#[test]
fn min_severity_filters() {
    // The CI log holds an expired (low) token and a bootstrap token (high).
    let out = leakscan(&[
        "scan",
        "--now",
        "2025-01-01T00:00:00Z",
        "--min-severity",
        "high",
        &testdata("logs/ci-build.log"),
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["k8s-bootstrap-token"]);
}

#[test]
fn rules_lists_every_rule_id() {
    let out = leakscan(&["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for id in [
        "k8s-sa-token-legacy",
        "k8s-sa-token-bound",
        "k8s-bootstrap-token",
        "kubeconfig-token",
        "kubeconfig-client-key",
        "kubeconfig-oidc-token",
        "kubeconfig-password",
        "k8s-static-token",
        "k8s-static-password",
        "k8s-dockerconfigjson",
        "jwt",
        "private-key",
    ] {
        assert!(text.contains(id), "{id} missing from `leakscan rules`");
    }
}

#[test]
fn rules_check_runs_every_detectors_examples() {
    let out = leakscan(&["rules", "--check"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    for d in scanner_core::rules::detector::DETECTORS {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(d.name))
            .unwrap_or_else(|| panic!("{} missing: {text}", d.name));
        assert!(line.ends_with(" ok"), "{line}");
        assert!(
            line.contains(&format!("{} examples", d.examples.len())),
            "{line}"
        );
    }
    let total: usize = scanner_core::rules::detector::DETECTORS
        .iter()
        .map(|d| d.examples.len())
        .sum();
    assert!(
        text.contains(&format!("{total} examples, 0 failed")),
        "{text}"
    );
}
