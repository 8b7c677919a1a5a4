//! `leakscan scan` end to end: trees, archives, Slack exports, stdin, the scan options, and
//! every skipped or failed input in the JSON `errors` and SARIF notifications.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support_cli::{json_of as json, leakscan_in};

const NOW: &str = "2025-01-01T00:00:00Z";
const KUBECONFIG: &[u8] =
    b"users:\n- name: ops\n  user:\n    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c\n";

fn leakscan(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["scan", "--now", NOW];
    all.extend_from_slice(args);
    leakscan_in(dir, &all)
}

/// (rule_id, path, line, column) of each finding in a JSON report.
fn positions(doc: &Value) -> Vec<(String, String, u64, u64)> {
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

/// (path, kind) of each error in a JSON report.
fn errors(doc: &Value) -> Vec<(String, String)> {
    doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_owned(),
                e["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn write(root: &Path, rel: &str, data: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

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

fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut b = tar::Builder::new(gz);
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// A log with a legacy token on line 2, column 38.
fn log_with_token(sa: &str) -> Vec<u8> {
    let tok = common::legacy_token("kube-system", sa, &format!("{sa}-token-q8z4m"));
    format!("10:00:00 INFO start\n10:00:01 DEBUG Authorization: Bearer {tok}\n10:00:02 INFO ok\n")
        .into_bytes()
}

#[test]
fn tree_with_archives_paths_relative_to_the_scan_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let log = log_with_token("ci");
    write(root, "tree/logs/build.log", &log);
    write(
        root,
        "tree/backup.zip",
        &zip(&[
            (
                "etc.tar.gz",
                &tgz(&[("etc/kubernetes/admin.conf", KUBECONFIG)]),
            ),
            ("notes.txt", b"nothing to see\n"),
        ]),
    );
    write(root, "tree/img.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    // A bomb: 20 MiB of one letter, a few KiB compressed.
    write(
        root,
        "tree/bomb.zip",
        &zip(&[("a.txt", &vec![b'a'; 20 << 20])]),
    );

    let legacy = "k8s-sa-token-legacy".to_string();
    let kc = "kubeconfig-token".to_string();
    let admin = "backup.zip!/etc.tar.gz!/etc/kubernetes/admin.conf";
    // SPEC: paths are relative to the scan root, however the root was spelled; with
    // several roots they stay as reached from each root.
    let abs = root.join("tree");
    let abs = abs.to_str().unwrap();
    for (arg, second, prefix) in [
        ("tree", None, ""),
        (".", None, ""),
        ("./tree", None, ""),
        (abs, None, ""),
        ("tree", Some("empty"), "tree/"),
    ] {
        let cwd = if arg == "." {
            root.join("tree")
        } else {
            root.to_path_buf()
        };
        std::fs::create_dir_all(root.join("empty")).unwrap();
        let mut args = vec!["--format", "json", arg];
        args.extend(second);
        let out = leakscan(&cwd, &args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc = json(&out);
        assert_eq!(
            positions(&doc),
            vec![
                (kc.clone(), format!("{prefix}{admin}"), 4, 12),
                (legacy.clone(), format!("{prefix}logs/build.log"), 2, 38),
            ],
            "root {arg}"
        );
        assert_eq!(
            errors(&doc),
            vec![(format!("{prefix}bomb.zip!/a.txt"), "zip-bomb".to_string())],
            "media files are counted, not listed"
        );
        assert_eq!(doc["stats"]["skipped_by_reason"]["media"], 1);
        assert_eq!(doc["stats"]["skipped_by_reason"]["zip-bomb"], 1);
        // Members are inputs: build.log, admin.conf, notes.txt.
        assert_eq!(doc["stats"]["files"], 3);
        assert_eq!(doc["stats"]["skipped"], 1);
    }
}

#[test]
fn options_exclude_hidden_no_ignore_max_size_depth_threads() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let log = log_with_token("opts");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    write(root, ".gitignore", b"*.tmp\n");
    write(root, "a.log", &log);
    write(root, "b.tmp", &log);
    write(root, ".cache/c.log", &log);
    write(root, "vendor/d.log", &log);
    write(root, "e.zip", &zip(&[("e.log", &log)]));
    let paths = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["--format", "json"];
        a.extend_from_slice(args);
        a.push(".");
        let doc = json(&leakscan(root, &a));
        positions(&doc).into_iter().map(|p| p.1).collect()
    };
    // A secret scanner's default: hidden and ignored files too; never the .git internals.
    write(root, ".git/config.log", &log);
    let everything = vec![
        ".cache/c.log",
        "a.log",
        "b.tmp",
        "e.zip!/e.log",
        "vendor/d.log",
    ];
    assert_eq!(paths(&[]), everything);
    assert_eq!(
        paths(&["--hidden", "--no-ignore"]),
        everything,
        "old flags still accepted"
    );
    assert_eq!(
        paths(&["--skip-hidden", "--respect-gitignore"]),
        vec!["a.log", "e.zip!/e.log", "vendor/d.log"]
    );
    assert_eq!(
        paths(&[
            "--skip-hidden",
            "--respect-gitignore",
            "--exclude",
            "vendor/",
            "--threads",
            "1"
        ]),
        vec!["a.log", "e.zip!/e.log"]
    );
    assert_eq!(
        paths(&["--exclude", "*.zip"]),
        vec![".cache/c.log", "a.log", "b.tmp", "vendor/d.log"]
    );
    let doc = json(&leakscan(
        root,
        &[
            "-f",
            "json",
            "--archive-depth",
            "0",
            "--max-file-size",
            "100",
            ".",
        ],
    ));
    assert!(positions(&doc).is_empty());
    let errs = errors(&doc);
    assert!(
        errs.contains(&("a.log".into(), "too-large".into())),
        "{errs:?}"
    );
    // e.zip is small enough to read, but archives are not opened at depth 0.
    let doc = json(&leakscan(
        root,
        &["-f", "json", "--archive-depth", "0", "e.zip"],
    ));
    assert_eq!(errors(&doc), vec![("e.zip".into(), "archive-depth".into())]);
}

#[test]
fn slack_export_fixture_gives_channel_date_and_user() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let out = leakscan(&fixture, &["--format", "jsonl", "slack-export"]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut got: Vec<_> = lines
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["context"]["channel"].as_str().unwrap_or("").to_owned(),
                f["context"]["user"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    got.sort();
    let s = String::from;
    assert_eq!(
        got,
        vec![
            (
                s("jwt"),
                s("incident-42/2024-03-06.json"),
                s("incident-42"),
                s("deploybot")
            ),
            (
                s("k8s-sa-token-legacy"),
                s("ops/2024-03-05.json"),
                s("ops"),
                s("bob")
            ),
            (
                s("kubeconfig-token"),
                s("ops/2024-03-05.json"),
                s("ops"),
                s("carol")
            ),
        ]
    );
}

#[test]
fn stdin_archive_utf16_and_sarif_notifications() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_with_token("stdin");
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakscan"))
        .current_dir(dir.path())
        .args(["scan", "--now", NOW, "-f", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&zip(&[("from-stdin.log", &log)])).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let doc = json(&out);
    assert_eq!(
        positions(&doc),
        vec![(
            "k8s-sa-token-legacy".into(),
            "-!/from-stdin.log".into(),
            2,
            38
        )]
    );

    // UTF-16 with a BOM, a corrupt archive, and the SARIF notifications for the latter.
    let mut le = vec![0xff, 0xfe];
    for u in std::str::from_utf8(&log).unwrap().encode_utf16() {
        le.extend_from_slice(&u.to_le_bytes());
    }
    write(dir.path(), "win.log", &le);
    let good = zip(&[("x.log", &log)]);
    write(dir.path(), "broken.zip", &good[..good.len() - 40]);
    let out = leakscan(dir.path(), &["-f", "sarif", "."]);
    assert_eq!(out.status.code(), Some(1));
    let sarif = json(&out);
    let run = &sarif["runs"][0];
    let r = &run["results"][0];
    assert_eq!(r["ruleId"], "k8s-sa-token-legacy");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "win.log");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 38);
    // First the count per kind, then one notification per input with its location.
    let notes = &run["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notes[0]["descriptor"]["id"], "corrupt-archive");
    assert_eq!(notes[0]["properties"]["count"], 1);
    assert_eq!(notes[1]["descriptor"]["id"], "corrupt-archive");
    assert_eq!(
        notes[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "broken.zip"
    );
}

#[test]
fn missing_path_is_a_usage_error_and_quiet_prints_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let out = leakscan(dir.path(), &["no-such-dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-dir"));

    write(dir.path(), "img.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let out = leakscan(dir.path(), &["-f", "json", "-q", "."]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = leakscan(dir.path(), &["-f", "json", "."]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 media"), "summary gives reasons: {err}");
    // -v lists each media file in the report too.
    let out = leakscan(dir.path(), &["-f", "json", "-v", "."]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["errors"][0]["path"], "img.png");
    assert_eq!(doc["errors"][0]["kind"], "media");
}

#[test]
fn big_file_same_findings_mapped_or_read() {
    let dir = tempfile::tempdir().unwrap();
    // 3 MiB of log lines (mapped above 1 MiB), then the token on a known line.
    let filler = "2024-05-01T10:00:00Z INFO [api] GET /healthz 200 duration_ms=3\n";
    let n = (3 << 20) / filler.len();
    let mut text = filler.repeat(n);
    text.push_str(&String::from_utf8(log_with_token("late")).unwrap());
    write(dir.path(), "big.log", text.as_bytes());
    let mut got = Vec::new();
    for extra in [&[][..], &["--no-mmap"][..]] {
        let mut args = vec!["-f", "json", "big.log"];
        args.extend_from_slice(extra);
        let doc = json(&leakscan(dir.path(), &args));
        got.push(positions(&doc));
    }
    let want = vec![(
        "k8s-sa-token-legacy".to_string(),
        "big.log".to_string(),
        n as u64 + 2,
        38,
    )];
    assert_eq!(got[0], want, "mapped");
    assert_eq!(got[1], want, "--no-mmap");
}

#[test]
fn a_home_directory_is_scanned_with_its_dotfiles_and_ignored_files_by_default() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path();
    write(root, ".kube/config", KUBECONFIG);
    let tok = common::legacy_token("prod", "deployer", "deployer-token-h8c2v");
    let history = format!("ls -la\nkubectl --token={tok} get pods -n prod\nexit\n");
    write(root, ".bash_history", history.as_bytes());
    write(root, "src/app/.gitignore", b".env\n");
    let env_tok = common::legacy_token("ci", "builder", "builder-token-x9w3q");
    write(
        root,
        "src/app/.env",
        format!("KUBE_TOKEN={env_tok}\n").as_bytes(),
    );
    // A repository's object store is history, for `leakscan git`; never walked as files.
    write(
        root,
        "src/app/.git/HEAD.orig",
        format!("{env_tok}\n").as_bytes(),
    );
    let doc = json(&leakscan(root, &["--format", "json", "."]));
    let found: Vec<(String, String, u64, u64)> = positions(&doc);
    assert_eq!(
        found,
        vec![
            ("k8s-sa-token-legacy".into(), ".bash_history".into(), 2, 17),
            ("kubeconfig-token".into(), ".kube/config".into(), 4, 12),
            ("k8s-sa-token-legacy".into(), "src/app/.env".into(), 1, 12),
        ]
    );
    assert_eq!(doc["findings"][2]["token"]["namespace"], "ci");
    // Narrowed on request.
    let narrow = json(&leakscan(root, &["--format", "json", "--skip-hidden", "."]));
    assert!(positions(&narrow).is_empty(), "{:?}", positions(&narrow));
}
