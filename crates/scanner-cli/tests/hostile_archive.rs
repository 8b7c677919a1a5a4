//! Hostile archives for `leakscan scan`: gzip streams with several members or trailing
//! bytes, bombs (one level and nested), and members named to escape. Every case is bounded
//! by a timeout, must not crash, and must either find the token (rule, path, line) or
//! report what it skipped with its kind. Archives are made by the real tools (gzip, zip)
//! where the case is about their output, by the zip/tar crates otherwise.

mod support_cli;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support_cli::{json_of, leakscan_bounded};

const LIMIT: Duration = Duration::from_secs(120);
const KUBECONFIG: &str =
    "users:\n- name: ops\n  user:\n    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c\n";

fn scan(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["scan", "--format", "json", "--no-progress"];
    all.extend_from_slice(args);
    let out = leakscan_bounded(dir, &all, &[], LIMIT);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        None,
        "killed by a signal"
    );
    let doc = json_of(&out);
    (out.status.code().unwrap_or(-1), doc)
}

/// (path, kind) of every reported error or skip.
fn errors(doc: &Value) -> Vec<(String, String)> {
    let mut e: Vec<(String, String)> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_owned(),
                e["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    e.sort();
    e
}

/// (rule, path, line) of every finding, sorted.
fn findings(doc: &Value) -> Vec<(String, String, u64)> {
    let mut f: Vec<(String, String, u64)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    f.sort();
    f
}

fn kc(path: &str, line: u64) -> (String, String, u64) {
    ("kubeconfig-token".into(), path.into(), line)
}

/// Runs a tool in `dir`, failing the test if it fails; returns standard output.
fn run(dir: &Path, cmd: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `gzip -dc FILE`: what a user sees in the file (exit 2 is gzip's "OK, with a warning").
fn gunzip(dir: &Path, name: &str) -> (Vec<u8>, String) {
    let out = Command::new("gzip")
        .args(["-dc", name])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 2)), "{out:?}");
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn regression_small_gzip_member_with_trailing_garbage_keeps_its_content() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ops.kubeconfig"), KUBECONFIG).unwrap();
    run(dir.path(), "gzip", &["ops.kubeconfig"]);
    append(
        &dir.path().join("ops.kubeconfig.gz"),
        b"\r\n-- uploaded by backup.sh --\r\n",
    );
    // gzip itself reads the member and warns about the rest.
    let (plain, warning) = gunzip(dir.path(), "ops.kubeconfig.gz");
    assert_eq!(plain, KUBECONFIG.as_bytes());
    assert!(warning.contains("trailing garbage"), "{warning}");

    let (code, doc) = scan(dir.path(), &["ops.kubeconfig.gz"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        findings(&doc),
        vec![kc("ops.kubeconfig.gz!/ops.kubeconfig", 4)]
    );
    assert_eq!(
        errors(&doc),
        vec![("ops.kubeconfig.gz".into(), "trailing-garbage".into())]
    );
}

#[test]
fn regression_trailing_garbage_after_a_big_member_and_zero_padding() {
    let dir = tempfile::tempdir().unwrap();
    // Big enough to be streamed rather than held (the 4 KiB head and past it).
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!(
            "2024-05-01T10:00:{:02}Z INFO request {i} ok\n",
            i % 60
        ));
    }
    text.push_str(KUBECONFIG);
    std::fs::write(dir.path().join("app.log"), &text).unwrap();
    run(dir.path(), "gzip", &["-k", "app.log"]);
    std::fs::rename(
        dir.path().join("app.log.gz"),
        dir.path().join("garbage.log.gz"),
    )
    .unwrap();
    append(
        &dir.path().join("garbage.log.gz"),
        b"\x00\x00not gzip at all",
    );
    run(dir.path(), "gzip", &["-k", "app.log"]);
    // Tape-style zero padding is not garbage (gzip -dc says nothing either).
    append(&dir.path().join("app.log.gz"), &[0u8; 4096]);
    let (plain, warning) = gunzip(dir.path(), "app.log.gz");
    assert_eq!(plain, text.as_bytes());
    assert_eq!(warning, "");
    std::fs::remove_file(dir.path().join("app.log")).unwrap();

    let (code, doc) = scan(dir.path(), &["."]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        findings(&doc),
        vec![
            kc("app.log.gz!/app.log", 20_004),
            kc("garbage.log.gz!/garbage.log", 20_004)
        ]
    );
    assert_eq!(
        errors(&doc),
        vec![("garbage.log.gz".into(), "trailing-garbage".into())]
    );
}

#[test]
fn regression_multi_member_gzip_is_read_whole_like_gzip_dc() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), "apiVersion: v1\nkind: Config\n").unwrap();
    std::fs::write(dir.path().join("b"), KUBECONFIG).unwrap();
    run(dir.path(), "gzip", &["a", "b"]);
    let mut joined = std::fs::read(dir.path().join("a.gz")).unwrap();
    joined.extend(std::fs::read(dir.path().join("b.gz")).unwrap());
    std::fs::write(dir.path().join("kubeconfig.gz"), joined).unwrap();
    let (plain, _) = gunzip(dir.path(), "kubeconfig.gz");
    assert_eq!(
        plain,
        format!("apiVersion: v1\nkind: Config\n{KUBECONFIG}").as_bytes()
    );

    let (code, doc) = scan(dir.path(), &["kubeconfig.gz"]);
    assert_eq!(code, 1, "{doc}");
    // The second member continues the first: its token is on line 2 + 4.
    assert_eq!(findings(&doc), vec![kc("kubeconfig.gz!/kubeconfig", 6)]);
    assert_eq!(errors(&doc), vec![]);
}
