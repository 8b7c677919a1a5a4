//! Damaged repositories and the ways git hands a hook its index: `leakscan git` (history,
//! `--range`, `--staged`) never hangs, says what it could not read, and still finds
//! everything it could read.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use support_cli::{json_of, leakscan_bounded, stderr};
use support_git::Repo;

/// Far above what any of these scans needs; a hang is what it catches.
const LIMIT: Duration = Duration::from_secs(30);

fn tok(secret: &str) -> String {
    common::legacy_token("ci", "builder", secret)
}

/// The file of loose object `id`.
fn loose(r: &Repo, id: &str) -> PathBuf {
    r.join(&format!(".git/objects/{}/{}", &id[..2], &id[2..]))
}

/// Cuts a file to `len` bytes (git stores objects read-only).
fn truncate(path: &PathBuf, len: u64) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_len(len).unwrap();
}

/// `leakscan git ARGS --format json` in `r`, bounded in time.
fn scan(r: &Repo, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["git"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json", "--no-progress"]);
    let out = leakscan_bounded(r.path(), &all, &[], LIMIT);
    (out.status.code().unwrap_or(-1), json_of(&out), stderr(&out))
}

fn kinds(report: &Value) -> Vec<String> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn paths(report: &Value) -> Vec<(String, u64, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn regression_truncated_loose_object_does_not_hang_history_range_or_staged() {
    let r = Repo::new();
    r.write("README.md", "# demo\n");
    r.commit("initial");
    r.write("a", "hi\n");
    r.write("deploy/kube.env", &format!("KUBE_TOKEN={}\n", tok("kept")));
    r.commit("add files");
    // The reproduction from the issue: a loose blob cut to 5 bytes.
    truncate(&loose(&r, &r.git(&["rev-parse", "HEAD:a"])), 5);

    for args in [vec!["."], vec![".", "--range", "HEAD~1..HEAD"]] {
        let (code, report, err) = scan(&r, &args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert_eq!(paths(&report), vec![("deploy/kube.env".into(), 1, 12)]);
        assert!(
            kinds(&report).contains(&"corrupt-object".to_owned()),
            "{report}"
        );
        assert!(err.contains("is corrupt"), "{err}");
    }

    // Staged: a damaged staged blob next to a staged token.
    r.write("b.env", &format!("TOKEN={}\n", tok("staged")));
    r.write("c.txt", "some notes\n");
    r.git(&["add", "b.env", "c.txt"]);
    truncate(&loose(&r, &r.git(&["rev-parse", ":c.txt"])), 9);
    let (code, report, err) = scan(&r, &["--staged"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(paths(&report), vec![("b.env".into(), 1, 7)]);
    assert!(
        kinds(&report).contains(&"corrupt-object".to_owned()),
        "{report}"
    );
}

#[test]
fn truncated_commit_and_tree_are_reported_and_the_rest_of_history_is_scanned() {
    let r = Repo::new();
    r.write("ops/main.env", &format!("T={}\n", tok("main")));
    r.commit("main work");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write("side/x.env", &format!("T={}\n", tok("side")));
    let side = r.commit("side work");
    r.git(&["checkout", "-q", "main"]);
    r.write("lib/y.env", &format!("T={}\n", tok("tree")));
    r.commit("more main work");
    // The side branch's tip commit and the tree of main's tip, both damaged.
    truncate(&loose(&r, &side), 12);
    truncate(&loose(&r, &r.git(&["rev-parse", "HEAD:lib"])), 20);

    let (code, report, err) = scan(&r, &["."]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(paths(&report), vec![("ops/main.env".into(), 1, 3)]);
    let k = kinds(&report);
    assert!(
        k.iter().filter(|k| *k == "corrupt-object").count() >= 2,
        "{report}"
    );
}

/// A pre-commit hook that runs leakscan on what git is about to commit.
fn install_hook(r: &Repo) {
    use std::os::unix::fs::PermissionsExt;
    let hook = r.join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    let bin = env!("CARGO_BIN_EXE_leakscan");
    std::fs::write(
        &hook,
        format!("#!/bin/sh\nexec '{bin}' git --staged --format text --no-progress\n"),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn regression_staged_honours_git_index_file_commit_a_and_commit_path() {
    let r = Repo::new();
    r.write("deploy/app.env", "REPLICAS=2\n");
    r.write("notes.txt", "todo\n");
    r.commit("initial");
    install_hook(&r);
    let before = r.head();
    // Unstaged edits: `git commit -a` and `git commit PATH` stage them into a temporary
    // index (GIT_INDEX_FILE) and run the hook with it.
    r.write(
        "deploy/app.env",
        &format!("REPLICAS=2\nKUBE_TOKEN={}\n", tok("hook")),
    );
    for args in [
        vec!["commit", "-q", "-a", "-m", "deploy"],
        vec!["commit", "-q", "-m", "deploy", "deploy/app.env"],
    ] {
        let out = r.cmd().args(&args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} passed the hook: {text}");
        assert!(text.contains("deploy/app.env"), "{text}");
        assert!(text.contains("k8s-sa-token-legacy"), "{text}");
        assert_eq!(r.head(), before, "{args:?} committed");
    }
    // The hook lets a clean change through.
    r.write("notes.txt", "todo: nothing secret\n");
    let out = r
        .cmd()
        .args(["commit", "-q", "-m", "notes", "notes.txt"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
