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
use support_cli::{error_kinds as reported, json_of, leakscan_bounded, stderr};
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

/// `leakscan git . ARGS --format json` in `dir` (a clone made in the test), bounded.
fn scan_dir(dir: &std::path::Path, args: &[&str], limit: Duration) -> (i32, Value, String) {
    let mut all = vec!["git", "."];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json", "--no-progress"]);
    let out = leakscan_bounded(dir, &all, &[], limit);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        None,
        "killed by a signal: {}",
        stderr(&out)
    );
    (out.status.code().unwrap_or(-1), json_of(&out), stderr(&out))
}

/// `abbrev:path`, the label git warnings carry.
fn at(commit: &str, path: &str) -> String {
    format!("{}:{path}", &commit[..12])
}

/// A text file of `lines` log lines with a kubeconfig token line after them.
fn big_text(lines: usize, secret: &str) -> String {
    let mut s = String::with_capacity(lines * 48);
    for i in 0..lines {
        s.push_str(&format!(
            "2024-05-01T10:00:00Z INFO request {i:08} served\n"
        ));
    }
    s.push_str(&format!("KUBE_TOKEN={}\n", tok(secret)));
    s
}

#[test]
fn regression_git_blob_above_max_file_size_is_reported_and_its_neighbour_scanned() {
    let r = Repo::new();
    r.write("dist/bundle.js", &"x".repeat(64 * 1024));
    r.write("deploy/kube.env", &format!("KUBE_TOKEN={}\n", tok("small")));
    let c = r.commit("release");
    let (code, report, err) = scan(&r, &[".", "--max-file-size", "16K"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(paths(&report), vec![("deploy/kube.env".into(), 1, 12)]);
    assert_eq!(
        reported(&report),
        vec![(at(&c, "dist/bundle.js"), "too-large".into())]
    );
    let msg = report["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("65536 bytes (limit 16384)"), "{msg}");
    // Over the limit means unread: incomplete, not skipped on purpose.
    assert_eq!(report["stats"]["incomplete"], 1, "{report}");

    // The same limit for what is staged.
    r.write("dist/bundle.js", &"y".repeat(64 * 1024));
    r.write(
        "deploy/kube.env",
        &format!("KUBE_TOKEN={}\n", tok("staged")),
    );
    r.git(&["add", "-A"]);
    let (code, report, err) = scan(&r, &["--staged", "--max-file-size", "16K"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(paths(&report), vec![("deploy/kube.env".into(), 1, 12)]);
    assert_eq!(
        reported(&report),
        vec![("dist/bundle.js".into(), "too-large".into())]
    );
}

#[test]
fn big_blobs_are_streamed_loose_packed_and_deltified_with_true_lines() {
    let r = Repo::new();
    // 20 MiB and more: above the 8 MiB from which blobs are streamed.
    let lines = 450_000;
    r.write("logs/a.log", &big_text(lines, "loose"));
    r.write("small.env", &format!("T={}\n", tok("small")));
    r.commit("logs");
    let expect = vec![
        ("logs/a.log".to_owned(), lines as u64 + 1, 12),
        ("small.env".to_owned(), 1, 3),
    ];
    let big = Duration::from_secs(180);
    let (code, report, err) = scan_dir(r.path(), &[], big);
    assert_eq!((code, paths(&report)), (1, expect.clone()), "{err}");
    assert_eq!(reported(&report), vec![]);

    // Packed: whole (streamed from the pack), and a second version stored as a delta
    // (read by libgit2).
    let mut v2 = big_text(lines, "loose");
    v2.push_str(&format!("KUBE_TOKEN={}\n", tok("delta")));
    r.write("logs/a.log", &v2);
    r.commit("more logs");
    r.git(&["gc", "-q", "--aggressive"]);
    let verify = r.git(&["verify-pack", "-v", &pack_of(&r)]);
    assert!(
        verify
            .lines()
            .any(|l| l.contains(" blob ") && l.split_whitespace().count() > 5),
        "no deltified blob in the pack: {verify}"
    );
    let (code, report, err) = scan_dir(r.path(), &[], big);
    assert_eq!(code, 1, "{err}");
    // The second version is another blob: its copy of the first token is reported too.
    let mut want = expect.clone();
    want.insert(0, expect[0].clone());
    want.insert(2, ("logs/a.log".to_owned(), lines as u64 + 2, 12));
    assert_eq!(paths(&report), want);
    assert_eq!(reported(&report), vec![]);

    // Staged: a big new blob in the index, streamed too.
    r.write("logs/b.log", &big_text(lines, "staged"));
    r.git(&["add", "logs/b.log"]);
    let (code, report, err) = scan(&r, &["--staged"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        paths(&report),
        vec![("logs/b.log".into(), lines as u64 + 1, 12)]
    );
}

/// The `.idx` of the repository's one pack (after `git gc`).
fn pack_of(r: &Repo) -> String {
    let dir = r.join(".git/objects/pack");
    let idx = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("a pack after git gc");
    idx.display().to_string()
}

/// (offset, size in pack) of object `id` in the repository's pack, from `git verify-pack`.
fn pack_entry(r: &Repo, id: &str) -> (u64, u64) {
    let out = r.git(&["verify-pack", "-v", &pack_of(r)]);
    let line = out
        .lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("{id} not in the pack: {out}"));
    let f: Vec<&str> = line.split_whitespace().collect();
    (f[4].parse().unwrap(), f[3].parse().unwrap())
}

/// Flips the bytes in the middle of an object's compressed data (`pack_entry`) in the pack.
fn damage(r: &Repo, (offset, len): (u64, u64)) {
    use std::os::unix::fs::{FileExt, PermissionsExt};
    let pack = pack_of(r).replace(".idx", ".pack");
    std::fs::set_permissions(&pack, std::fs::Permissions::from_mode(0o644)).unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .read(true)
        .open(&pack)
        .unwrap();
    let at = offset + len / 2;
    let mut b = [0u8; 8];
    f.read_exact_at(&mut b, at).unwrap();
    for x in &mut b {
        *x ^= 0xa5;
    }
    f.write_all_at(&b, at).unwrap();
}

#[test]
fn corrupt_pack_objects_are_reported_and_the_rest_is_scanned() {
    let r = Repo::new();
    r.write(
        "notes/small.txt",
        &"meeting notes, nothing secret\n".repeat(200),
    );
    r.write("logs/big.log", &big_text(300_000, "big"));
    r.write(
        "deploy/kube.env",
        &format!("KUBE_TOKEN={}\n", tok("intact")),
    );
    let c = r.commit("work");
    r.git(&["gc", "-q"]);
    let small = r.git(&["rev-parse", "HEAD:notes/small.txt"]);
    let big = r.git(&["rev-parse", "HEAD:logs/big.log"]);
    // One read by libgit2, one streamed from the pack by leakscan.
    let entries = [pack_entry(&r, &small), pack_entry(&r, &big)];
    for e in entries {
        damage(&r, e);
    }
    let (code, report, err) = scan_dir(r.path(), &[], Duration::from_secs(120));
    assert_eq!(code, 1, "{err}");
    let found = paths(&report);
    assert!(
        found.contains(&("deploy/kube.env".into(), 1, 12)),
        "{report}"
    );
    let rep = reported(&report);
    // The token's signature (fresh keys each run) moves the damage around inside the
    // compressed entry: libgit2 then calls the object unreadable or absent. Both are
    // incomplete; neither may pass silently.
    for path in ["notes/small.txt", "logs/big.log"] {
        assert!(
            rep.contains(&(at(&c, path), "corrupt-object".into()))
                || rep.contains(&(at(&c, path), "missing-object".into())),
            "{path}: {rep:?}"
        );
    }
}

/// A repository to clone from: an old commit with a token that was later removed, and a
/// token that is still there.
fn origin_repo() -> (Repo, String) {
    let r = Repo::new();
    r.write("old/kube.env", &format!("KUBE_TOKEN={}\n", tok("old")));
    let old = r.commit("old token");
    r.git(&["rm", "-q", "old/kube.env"]);
    r.write(
        "deploy/kube.env",
        &format!("KUBE_TOKEN={}\n", tok("current")),
    );
    r.commit("current token");
    r.git(&["config", "uploadpack.allowFilter", "true"]);
    (r, old)
}

fn clone(r: &Repo, args: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.path().display());
    let dest = dir.path().join("clone");
    let mut all = vec!["clone", "-q"];
    all.extend_from_slice(args);
    all.extend_from_slice(&[&url, dest.to_str().unwrap()]);
    r.git(&all);
    dir
}

#[test]
fn shallow_clone_is_scanned_and_says_it_is_shallow() {
    let (r, _) = origin_repo();
    let dir = clone(&r, &["--depth", "1"]);
    let (code, report, err) = scan_dir(&dir.path().join("clone"), &[], LIMIT);
    assert_eq!(code, 1, "{err}");
    assert_eq!(paths(&report), vec![("deploy/kube.env".into(), 1, 12)]);
    assert_eq!(
        reported(&report),
        vec![(".".into(), "shallow-clone".into())]
    );
}

#[test]
fn partial_clone_reports_every_missing_blob() {
    let (r, old) = origin_repo();
    let dir = clone(&r, &["--filter=blob:none"]);
    let (code, report, err) = scan_dir(&dir.path().join("clone"), &[], LIMIT);
    assert_eq!(code, 1, "{err}");
    // The checkout fetched HEAD's blobs; the old one was never fetched.
    assert_eq!(paths(&report), vec![("deploy/kube.env".into(), 1, 12)]);
    assert_eq!(
        reported(&report),
        vec![(at(&old, "old/kube.env"), "missing-object".into())]
    );
}

#[test]
fn submodule_does_not_crash_the_scan() {
    let sub = Repo::new();
    sub.write("sub.env", &format!("T={}\n", tok("in-submodule")));
    sub.commit("sub");
    let r = Repo::new();
    r.write("main.env", &format!("T={}\n", tok("in-main")));
    r.commit("main");
    r.add_submodule(&sub, "vendor/sub");
    r.commit("add submodule");
    let (code, report, err) = scan(&r, &["."]);
    assert_eq!(code, 1, "{err}");
    // The superproject's own history is scanned whatever is said about the submodule.
    assert!(
        paths(&report).contains(&("main.env".into(), 1, 3)),
        "{report}"
    );
    let (_, staged, err) = scan(&r, &["--staged"]);
    assert!(staged["findings"].is_array(), "{err}");
}

#[test]
fn corrupt_pack_at_a_branch_tip_is_reported_and_other_branches_scanned() {
    let r = Repo::new();
    r.write("README.md", "# demo\n");
    r.commit("initial");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write("side/kube.env", &format!("KUBE_TOKEN={}\n", tok("side")));
    r.commit("side work");
    r.git(&["checkout", "-q", "main"]);
    r.write("main/notes.txt", "release notes\n");
    let tip = r.commit("main work");
    // No deltas: the side commit must not depend on the damaged one.
    r.git(&["-c", "pack.window=0", "gc", "-q"]);
    let entry = pack_entry(&r, &tip);
    damage(&r, entry);
    let (code, report, err) = scan_dir(r.path(), &[], LIMIT);
    assert_eq!(code, 1, "{err} {report}");
    assert_eq!(paths(&report), vec![("side/kube.env".into(), 1, 12)]);
    let rep = reported(&report);
    assert!(
        rep.contains(&("refs/heads/main".into(), "corrupt-object".into())),
        "{rep:?}"
    );
    // Damaged is not empty: the repository has commits, one of them unreadable.
    assert!(rep.iter().all(|(_, k)| k != "empty-repository"), "{rep:?}");

    // Every ref damaged: reported as such, still not "empty".
    r.git(&["branch", "-q", "-D", "side"]);
    let (_, report, _) = scan_dir(r.path(), &[], LIMIT);
    let rep = reported(&report);
    assert!(
        !rep.is_empty() && rep.iter().all(|(_, k)| k == "corrupt-object"),
        "{rep:?}"
    );
}
