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
use support_cli::error_kinds as errors;

const LIMIT: Duration = Duration::from_secs(120);
const KUBECONFIG: &str =
    "users:\n- name: ops\n  user:\n    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c\n";

fn scan(dir: &Path, args: &[&str]) -> (i32, Value) {
    support_cli::scan_json(dir, args, LIMIT)
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

/// A zip of `(name, bytes)`, deflated (the zip crate stores names exactly as given).
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn zip_bomb_member_is_stopped_and_its_neighbours_scanned() {
    let dir = tempfile::tempdir().unwrap();
    // 64 MiB of text deflates about 1000:1, four times the 250:1 the scan allows.
    let filler = vec![b'a'; 64 << 20];
    let bomb = zip(&[
        ("a/ops.kubeconfig", KUBECONFIG.as_bytes()),
        ("b/filler.txt", &filler),
        ("c/ops.kubeconfig", KUBECONFIG.as_bytes()),
    ]);
    assert!(bomb.len() < 200 << 10, "{} bytes", bomb.len());
    std::fs::write(dir.path().join("release.zip"), &bomb).unwrap();

    let (code, doc) = scan(dir.path(), &["release.zip"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        findings(&doc),
        vec![
            kc("release.zip!/a/ops.kubeconfig", 4),
            kc("release.zip!/c/ops.kubeconfig", 4)
        ]
    );
    assert_eq!(
        errors(&doc),
        vec![("release.zip!/b/filler.txt".into(), "zip-bomb".into())]
    );
}

/// A 42.zip-like nest: `levels` levels of zips, `width` copies of the level below in each,
/// 1 MiB of zeros at the bottom; the first copy of the bottom level also holds a kubeconfig.
fn nest(levels: usize, width: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut with = zip(&[("0.bin", &zeros), ("ops.kubeconfig", KUBECONFIG.as_bytes())]);
    let mut plain = zip(&[("0.bin", &zeros)]);
    for level in 0..levels {
        let names: Vec<String> = (0..width).map(|i| format!("l{level}-{i}.zip")).collect();
        let level_of = |first: &[u8], rest: &[u8]| {
            let entries: Vec<(&str, &[u8])> = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_str(), if i == 0 { first } else { rest }))
                .collect();
            zip(&entries)
        };
        (with, plain) = (level_of(&with, &plain), level_of(&plain, &plain));
    }
    with
}

#[test]
fn nested_zip_bomb_is_cut_at_the_depth_limit_and_opened_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = nest(4, 8);
    assert!(bomb.len() < 8 << 20, "{} bytes", bomb.len());
    std::fs::write(dir.path().join("42.zip"), &bomb).unwrap();

    // Default depth 3: the fourth level of zips is reported, not opened.
    // (The exit code is left to the "incomplete is not clean" policy, issue 11 item 9.)
    let (_, doc) = scan(dir.path(), &["42.zip"]);
    assert_eq!(findings(&doc), vec![]);
    let e = errors(&doc);
    assert_eq!(e.len(), 8 * 8 * 8, "{e:?}");
    assert!(e.iter().all(|(_, k)| k == "archive-depth"), "{e:?}");
    assert!(
        e.contains(&(
            "42.zip!/l3-0.zip!/l2-0.zip!/l1-0.zip".into(),
            "archive-depth".into()
        )),
        "{e:?}"
    );

    // Allowed to go all the way down: the kubeconfig at the bottom is found, and the zeros
    // (binary content is searched; 4 GiB in all, within the total budget) are read whole.
    let (code, doc) = scan(dir.path(), &["42.zip", "--archive-depth", "5"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        findings(&doc),
        vec![kc(
            "42.zip!/l3-0.zip!/l2-0.zip!/l1-0.zip!/l0-0.zip!/ops.kubeconfig",
            4
        )]
    );
    assert_eq!(errors(&doc), vec![]);
    assert_eq!(
        doc["stats"]["files"],
        8 * 8 * 8 * 8 + 1,
        "one zero member per bottom zip, and the kubeconfig: {}",
        doc["stats"]
    );
    assert_eq!(
        doc["stats"]["bytes"],
        ((8 * 8 * 8 * 8) << 20) + KUBECONFIG.len()
    );
    assert_eq!(doc["stats"]["complete"], true);
}

/// Every file under `root`, relative, sorted.
fn listing(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p.clone());
            }
            out.push(p.strip_prefix(root).unwrap().display().to_string());
        }
    }
    out.sort();
    out
}

#[test]
fn tar_with_dot_dot_and_absolute_member_names_is_read_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("build/src")).unwrap();
    std::fs::create_dir_all(root.join("abs")).unwrap();
    std::fs::write(root.join("build/escape.kubeconfig"), KUBECONFIG).unwrap();
    let abs = root.join("abs/admin.conf");
    std::fs::write(&abs, KUBECONFIG).unwrap();
    // GNU tar keeps `../` and leading `/` in member names with -P (--absolute-names).
    let abs_name = abs.display().to_string();
    run(
        &root.join("build/src"),
        "tar",
        &["-cPf", "../../evil.tar", "../escape.kubeconfig", &abs_name],
    );
    std::fs::remove_dir_all(root.join("build")).unwrap();
    std::fs::remove_dir_all(root.join("abs")).unwrap();
    let names = String::from_utf8(run(root, "tar", &["-tPf", "evil.tar"])).unwrap();
    assert_eq!(names, format!("../escape.kubeconfig\n{abs_name}\n"));
    let before = listing(root);

    let (code, doc) = scan(root, &["evil.tar"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        findings(&doc),
        vec![
            kc("evil.tar!/../escape.kubeconfig", 4),
            kc(&format!("evil.tar!/{abs_name}"), 4),
        ]
    );
    assert_eq!(errors(&doc), vec![]);
    // Only labels: nothing was written where the names point, nor anywhere in the tree.
    assert_eq!(listing(root), before);
    assert!(!abs.exists());
    assert!(!root.join("build").exists());
}

#[test]
fn zip_with_traversal_names_is_read_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("scan");
    std::fs::create_dir(&root).unwrap();
    let target = dir.path().join("outside.kubeconfig");
    let abs_name = target.display().to_string();
    let bytes = zip(&[
        ("../outside.kubeconfig", KUBECONFIG.as_bytes()),
        (&abs_name, KUBECONFIG.as_bytes()),
        ("a/../../../../tmp/x.kubeconfig", KUBECONFIG.as_bytes()),
    ]);
    std::fs::write(root.join("upload.zip"), &bytes).unwrap();

    let (code, doc) = scan(&root, &["upload.zip"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        findings(&doc),
        vec![
            kc("upload.zip!/../outside.kubeconfig", 4),
            kc(&format!("upload.zip!/{abs_name}"), 4),
            kc("upload.zip!/a/../../../../tmp/x.kubeconfig", 4),
        ]
    );
    assert_eq!(errors(&doc), vec![]);
    assert_eq!(listing(dir.path()), vec!["scan", "scan/upload.zip"]);
}
