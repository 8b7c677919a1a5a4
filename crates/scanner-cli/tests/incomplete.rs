//! Incomplete is not clean (issue 11 item 9): a scan that could not read something it was
//! asked to read says INCOMPLETE, counts it in `stats.incomplete`, and with
//! `--fail-on-incomplete` exits 3 — while findings still win with exit 1.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::io::{Cursor, Write};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support_cli::{json_of, leakscan_bounded, stderr};
use support_git::Repo;

const LIMIT: Duration = Duration::from_secs(60);

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Sets the "encrypted" flag (general purpose bit 0) of every member, as a zip made with a
/// password has it: leakscan cannot read such a member.
fn mark_encrypted(mut z: Vec<u8>) -> Vec<u8> {
    for (sig, flags_at) in [(b"PK\x03\x04", 6), (b"PK\x01\x02", 8)] {
        let hits: Vec<usize> = z
            .windows(4)
            .enumerate()
            .filter(|(_, w)| w == sig)
            .map(|(i, _)| i)
            .collect();
        for i in hits {
            z[i + flags_at] |= 1;
        }
    }
    z
}

fn kubeconfig(token: &str) -> Vec<u8> {
    format!("apiVersion: v1\nkind: Config\nusers:\n- name: ops\n  user:\n    token: {token}\n")
        .into_bytes()
}

/// `leakscan scan ARGS --format json` in `dir`: (exit code, report, stderr).
fn scan(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["scan", "--format", "json", "--no-progress"];
    all.extend_from_slice(args);
    let out = leakscan_bounded(dir, &all, &[], LIMIT);
    (out.status.code().unwrap_or(-1), json_of(&out), stderr(&out))
}

fn reasons(doc: &Value) -> Vec<(String, u64)> {
    doc["stats"]["skipped_by_reason"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

/// The counts add up: every input left out is either skipped on purpose or incomplete.
fn assert_consistent(doc: &Value) {
    let s = &doc["stats"];
    let sum: u64 = reasons(doc).iter().map(|(_, n)| n).sum();
    assert_eq!(
        sum,
        s["skipped"].as_u64().unwrap() + s["incomplete"].as_u64().unwrap(),
        "{s}"
    );
    assert_eq!(
        s["complete"].as_bool().unwrap(),
        s["incomplete"] == 0,
        "{s}"
    );
}

#[test]
fn zip_bomb_encrypted_member_and_depth_limit_are_incomplete_not_clean() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("bomb.zip"),
        zip(&[("a.txt", &vec![b'a'; 20 << 20])]),
    )
    .unwrap();
    let tok = "8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c";
    std::fs::write(
        root.join("locked.zip"),
        mark_encrypted(zip(&[(".kube/config", &kubeconfig(tok))])),
    )
    .unwrap();
    let inner = zip(&[("admin.conf", &kubeconfig(tok))]);
    std::fs::write(root.join("nested.zip"), zip(&[("inner.zip", &inner)])).unwrap();
    std::fs::write(root.join("README.md"), b"nothing to see\n").unwrap();

    let (code, doc, err) = scan(root, &["--archive-depth", "1", "."]);
    assert_eq!(
        code, 0,
        "without --fail-on-incomplete an incomplete scan still exits 0"
    );
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0);
    assert_eq!(
        reasons(&doc),
        vec![
            ("archive-depth".into(), 1),
            ("encrypted".into(), 1),
            ("zip-bomb".into(), 1)
        ]
    );
    assert_eq!(doc["stats"]["incomplete"], 3);
    assert_eq!(doc["stats"]["complete"], false);
    assert_consistent(&doc);
    assert!(
        err.contains("INCOMPLETE: 3 inputs could not be read in full"),
        "{err}"
    );
    assert!(err.contains("--fail-on-incomplete"), "{err}");

    let (code, _, err) = scan(root, &["--archive-depth", "1", "--fail-on-incomplete", "."]);
    assert_eq!(code, 3, "{err}");

    // A finding elsewhere wins: exit 1, not 3.
    std::fs::write(root.join("admin.conf"), kubeconfig(tok)).unwrap();
    let (code, doc, _) = scan(root, &["--archive-depth", "1", "--fail-on-incomplete", "."]);
    assert_eq!(code, 1);
    assert_eq!(doc["findings"][0]["rule_id"], "kubeconfig-token");
    assert_eq!(doc["findings"][0]["path"], "admin.conf");
}

#[test]
fn member_cap_reached_with_the_token_past_it_is_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..100_000 {
        w.start_file(format!("m/{i}"), opts).unwrap();
    }
    w.start_file("m/last/.kube/config", opts).unwrap();
    w.write_all(&kubeconfig("8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c"))
        .unwrap();
    std::fs::write(
        dir.path().join("many.zip"),
        w.finish().unwrap().into_inner(),
    )
    .unwrap();

    let (code, doc, err) = scan(dir.path(), &["--fail-on-incomplete", "many.zip"]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(reasons(&doc), vec![("too-many-members".into(), 1)]);
    assert_eq!(doc["errors"][0]["path"], "many.zip");
    assert_consistent(&doc);
}

#[test]
fn a_clean_scan_with_skipped_media_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("logo.png"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"hello\n").unwrap();
    let (code, doc, err) = scan(dir.path(), &["--fail-on-incomplete", "."]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(doc["stats"]["complete"], true);
    assert_eq!(doc["stats"]["skipped"], 1);
    assert_eq!(reasons(&doc), vec![("media".into(), 1)]);
    assert_consistent(&doc);
    assert!(!err.contains("INCOMPLETE"), "{err}");
    assert!(err.contains("1 file,"), "singular in the summary: {err}");
}

fn git_scan(r: &Repo, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["git", ".", "--format", "json", "--no-progress"];
    all.extend_from_slice(args);
    let out = leakscan_bounded(r.path(), &all, &[], LIMIT);
    (out.status.code().unwrap_or(-1), json_of(&out), stderr(&out))
}

#[test]
fn corrupt_pack_is_incomplete_not_an_empty_repository() {
    let r = Repo::new();
    for i in 0..3 {
        r.write(&format!("f{i}"), &"some text to compress\n".repeat(200));
        r.commit(&format!("c{i}"));
    }
    r.git(&["gc", "-q"]);
    let pack = std::fs::read_dir(r.join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pack"))
        .unwrap();
    let mut bytes = std::fs::read(&pack).unwrap();
    for b in bytes.iter_mut().skip(100).step_by(50) {
        *b ^= 0xff;
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pack, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&pack, bytes).unwrap();

    let (code, doc, err) = git_scan(&r, &["--fail-on-incomplete"]);
    assert_eq!(code, 3, "{err}");
    let kinds: Vec<&str> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    // libgit2 reports a damaged pack entry as unreadable or as absent, depending on where
    // the damage falls; both leave the scan incomplete.
    assert!(
        kinds
            .iter()
            .any(|k| *k == "corrupt-object" || *k == "missing-object"),
        "{kinds:?}"
    );
    assert!(
        !kinds.contains(&"empty-repository"),
        "a damaged repository is not empty: {kinds:?}"
    );
    assert_eq!(doc["stats"]["complete"], false);
    assert!(err.contains("INCOMPLETE"), "{err}");
}

#[test]
fn submodules_in_history_are_reported_once_as_not_scanned() {
    let sub = Repo::new();
    sub.write("lib.txt", "v1\n");
    sub.commit("v1");
    let r = Repo::new();
    r.write("README.md", "top\n");
    r.commit("top");
    r.add_submodule(&sub, "vendor/lib");
    r.commit("add submodule");
    sub.write("lib.txt", "v2\n");
    sub.commit("v2");
    let mut pull = r.cmd();
    pull.current_dir(r.join("vendor/lib"))
        .args(["pull", "-q", "origin", "HEAD"]);
    assert!(pull.status().unwrap().success());
    r.git(&["add", "vendor/lib"]);
    r.commit("bump submodule");

    let (code, doc, err) = git_scan(&r, &[]);
    assert_eq!(code, 0, "{err}");
    let subs: Vec<&Value> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "submodule")
        .collect();
    assert_eq!(subs.len(), 1, "once per path, not per commit: {subs:?}");
    assert!(
        subs[0]["path"].as_str().unwrap().ends_with(":vendor/lib"),
        "{subs:?}"
    );
    assert_eq!(doc["stats"]["complete"], false);
    let (code, _, _) = git_scan(&r, &["--fail-on-incomplete"]);
    assert_eq!(code, 3);
}

#[test]
fn a_bare_range_that_selects_nothing_is_an_error_an_empty_explicit_one_a_warning() {
    let r = Repo::new();
    r.write("README.md", "hi\n");
    r.commit("one");
    r.write("deploy/kube.env", "KUBE_TOKEN=none-yet\n");
    r.commit("two");
    let out = leakscan_bounded(
        r.path(),
        &["git", ".", "--range", "HEAD", "--no-progress"],
        &[],
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--branch HEAD"), "{}", stderr(&out));
    let (code, doc, _) = git_scan(&r, &["--range", "HEAD..HEAD"]);
    assert_eq!(code, 0);
    assert_eq!(doc["errors"][0]["kind"], "empty-range");
    assert_eq!(doc["stats"]["commits"], 0);
}
