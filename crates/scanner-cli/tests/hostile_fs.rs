//! Hostile file-system inputs for `leakscan scan`: named pipes and files truncated while
//! they are scanned. Every case is bounded by a timeout, must not kill the process, and
//! must keep what was found and report what was not read.

mod support_cli;

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support_cli::{json_of, leakscan_bounded};

const LIMIT: Duration = Duration::from_secs(60);
const KUBECONFIG: &str =
    "users:\n- name: ops\n  user:\n    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c\n";

fn scan(dir: &Path, args: &[&str]) -> (std::process::Output, Value) {
    let mut all = vec!["scan", "--format", "json", "--no-progress"];
    all.extend_from_slice(args);
    let out = leakscan_bounded(dir, &all, &[], LIMIT);
    let doc = json_of(&out);
    (out, doc)
}

fn error_kinds(doc: &Value) -> Vec<String> {
    doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn findings(doc: &Value) -> Vec<(String, String, u64)> {
    doc["findings"]
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
        .collect()
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success());
}

#[test]
fn regression_fifo_argument_without_a_writer_does_not_block() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("pipe"));
    let (out, doc) = scan(dir.path(), &["pipe"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(error_kinds(&doc), vec!["fifo-no-writer"]);
}

#[test]
fn fifo_argument_with_a_writer_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("pipe");
    mkfifo(&pipe);
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let mut f = std::fs::OpenOptions::new().write(true).open(pipe).unwrap();
        f.write_all(KUBECONFIG.as_bytes()).unwrap();
    });
    let (out, doc) = scan(dir.path(), &["pipe"]);
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(1), "{doc}");
    assert_eq!(
        findings(&doc),
        vec![("kubeconfig-token".into(), "pipe".into(), 4)]
    );
}

#[test]
fn fifo_inside_a_tree_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("pipe"));
    std::fs::write(dir.path().join("ops.kubeconfig"), KUBECONFIG).unwrap();
    let (out, doc) = scan(dir.path(), &["."]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(error_kinds(&doc), vec!["fifo"]);
    assert_eq!(doc["stats"]["skipped_by_reason"]["fifo"], 1);
}

/// A 1 GiB sparse file: a kubeconfig up front, then zeros (holes read fast, so a scan takes
/// long enough to be cut in the middle, and costs no disk).
fn big_sparse(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(KUBECONFIG.as_bytes()).unwrap();
    f.write_all(&vec![b'\n'; 16 * 1024]).unwrap();
    f.set_len(1 << 30).unwrap();
}

#[test]
fn regression_file_truncated_while_scanned_is_no_sigbus_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    for mode in [&[][..], &["--no-mmap"][..]] {
        let mut cut_seen = false;
        for delay_ms in [20u64, 40, 80, 10, 160, 5] {
            big_sparse(&path);
            let truncator = {
                let path = path.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(delay_ms));
                    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
                    f.set_len(64 * 1024).unwrap();
                })
            };
            let mut args = vec!["app.log"];
            args.extend_from_slice(mode);
            let (out, doc) = scan(dir.path(), &args);
            truncator.join().unwrap();
            assert_eq!(out.status.signal(), None, "{mode:?}: killed by a signal");
            assert_eq!(
                findings(&doc),
                vec![("kubeconfig-token".into(), "app.log".into(), 4)],
                "{mode:?}: {doc}"
            );
            let kinds = error_kinds(&doc);
            assert!(
                kinds.is_empty() || kinds == ["truncated"],
                "{mode:?}: {kinds:?}"
            );
            if !kinds.is_empty() {
                cut_seen = true;
                break;
            }
        }
        assert!(
            cut_seen,
            "{mode:?}: no run was cut while scanning; the test did not test anything"
        );
    }
}
