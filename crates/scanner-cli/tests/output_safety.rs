//! What leakscan writes and prints is safe (issue 11 items 13–15): Ctrl-C leaves no
//! half-written report, hostile names cannot drive the terminal, `-o` never replaces an
//! input and keeps a report's mode, a closed pipe is no error, colour obeys NO_COLOR /
//! TERM=dumb / --color, and a blocked commit says how to go on.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::io::{Cursor, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support_cli::{leakscan_bounded, stderr};

const LIMIT: Duration = Duration::from_secs(60);
const BIN: &str = env!("CARGO_BIN_EXE_leakscan");

fn kubeconfig(token: &str) -> String {
    format!("apiVersion: v1\nkind: Config\nusers:\n- name: ops\n  user:\n    token: {token}\n")
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".leakscan-"))
        .collect()
}

/// Starts `leakscan scan - -o out.json --show-secrets` on a held-open stdin, waits for its
/// temporary report file, sends `signal`, and returns the exit code.
fn interrupt_with(signal: &str) -> (Option<i32>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args([
            "scan",
            "-",
            "-o",
            "out.json",
            "--show-secrets",
            "--no-progress",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(kubeconfig("8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c").as_bytes())
        .unwrap();
    let started = Instant::now();
    while temp_files(dir.path()).is_empty() {
        assert!(
            started.elapsed() < LIMIT,
            "no temporary report file appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("leakscan did not exit after {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    (status.code(), dir)
}

#[test]
fn ctrl_c_and_sigterm_leave_no_temporary_report_behind() {
    for signal in ["-INT", "-TERM"] {
        let (code, dir) = interrupt_with(signal);
        assert_eq!(code, Some(130), "{signal}");
        assert_eq!(temp_files(dir.path()), Vec::<String>::new(), "{signal}");
        assert!(!dir.path().join("out.json").exists(), "{signal}");
    }
}

#[test]
fn hostile_file_and_member_names_are_escaped_in_text_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "ops\x1b]0;pwned\x07\x1b[2J\nfake.yaml:1:1 critical";
    std::fs::write(
        dir.path().join(evil),
        kubeconfig("8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c"),
    )
    .unwrap();
    // A nested archive past --archive-depth 1 is a warning that names the member.
    let zip = |name: &str, data: &[u8]| {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
        w.finish().unwrap().into_inner()
    };
    let inner = zip("a.txt", b"hello\n");
    std::fs::write(
        dir.path().join("outer.zip"),
        zip("x\x1b[31mred\x1b[0m.zip", &inner),
    )
    .unwrap();
    let args = [
        "scan",
        "--format",
        "text",
        "--color",
        "never",
        "--archive-depth",
        "1",
        ".",
    ];
    let out = leakscan_bounded(dir.path(), &args, &[], LIMIT);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let err = stderr(&out);
    assert!(
        !text.contains('\x1b') && !err.contains('\x1b'),
        "raw ESC: {text:?} {err:?}"
    );
    assert!(
        text.contains("ops\\e]0;pwned\\u{0007}\\e[2J\\nfake.yaml:1:1 critical"),
        "{text}"
    );
    assert!(err.contains("outer.zip!/x\\e[31mred\\e[0m.zip"), "{err}");
    // Each finding is one line: the name's newline cannot forge a report line.
    assert!(!text.lines().any(|l| l.starts_with("fake.yaml")), "{text}");
}

#[test]
fn output_onto_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let body = kubeconfig("8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c");
    std::fs::write(&log, &body).unwrap();
    let out = leakscan_bounded(
        dir.path(),
        &["scan", "app.log", "-o", "app.log"],
        &[],
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is also an input"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        body,
        "the input is untouched"
    );
    assert_eq!(temp_files(dir.path()), Vec::<String>::new());
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Runs leakscan under `umask 022` so the expected modes do not depend on the test runner.
fn with_umask(dir: &Path, args: &str) -> i32 {
    let script = format!("umask 022; exec \"$0\" {args}");
    let out = Command::new("sh")
        .args(["-c", &script, BIN])
        .current_dir(dir)
        .output()
        .unwrap();
    out.status.code().unwrap()
}

#[test]
fn output_keeps_an_existing_mode_and_a_new_file_follows_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.log"), b"nothing here\n").unwrap();
    let kept = dir.path().join("kept.json");
    std::fs::write(&kept, b"old").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(with_umask(dir.path(), "scan in.log -o kept.json"), 0);
    assert_eq!(mode(&kept), 0o640);
    assert!(std::fs::read_to_string(&kept)
        .unwrap()
        .contains("\"findings\""));

    assert_eq!(with_umask(dir.path(), "scan in.log -o new.json"), 0);
    assert_eq!(mode(&dir.path().join("new.json")), 0o644);
    // A new report that holds raw secrets is readable by its owner only.
    assert_eq!(
        with_umask(dir.path(), "scan in.log --show-secrets -o raw.json"),
        0
    );
    assert_eq!(mode(&dir.path().join("raw.json")), 0o600);
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut many = String::new();
    for i in 0..3000 {
        many.push_str(&format!(
            "- name: u{i}\n  user:\n    token: {i:08}8d4f1c7a9e2b6f3d0a5c8e1b\n"
        ));
    }
    std::fs::write(
        dir.path().join("config"),
        format!("kind: Config\nusers:\n{many}"),
    )
    .unwrap();
    for format in ["jsonl", "json", "text"] {
        let script = format!("\"$0\" scan --no-progress -f {format} config 2>err.txt | head -c 10 >/dev/null; cat err.txt");
        let out = Command::new("bash")
            .args(["-c", &script, BIN])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stdout);
        assert!(err.contains("3000 findings"), "{format}: {err}");
        assert!(
            !err.to_lowercase().contains("pipe") && !err.contains("error"),
            "{format}: {err}"
        );
    }
}

#[test]
fn color_follows_the_flag_no_color_and_term_dumb() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config"),
        kubeconfig("8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c"),
    )
    .unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["scan", "--no-progress", "-f", "text"];
        all.extend_from_slice(args);
        all.push("config");
        String::from_utf8_lossy(&leakscan_bounded(dir.path(), &all, env, LIMIT).stdout).into_owned()
    };
    assert!(run(&["--color", "always"], &[]).contains("\x1b["));
    assert!(!run(&["--color", "never"], &[]).contains('\x1b'));
    assert!(!run(&[], &[]).contains('\x1b'), "a pipe is not a terminal");
    // On a real terminal (script(1) gives one), auto colours unless NO_COLOR or TERM=dumb.
    let on_tty = |env: &[(&str, &str)]| {
        let cmd = format!("{BIN} scan --no-progress -f text config");
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"])
            .current_dir(dir.path())
            .env("TERM", "xterm");
        for (k, v) in env {
            c.env(k, v);
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    assert!(on_tty(&[]).contains("\x1b["), "auto on a terminal colours");
    assert!(!on_tty(&[("NO_COLOR", "1")]).contains('\x1b'));
    assert!(!on_tty(&[("TERM", "dumb")]).contains('\x1b'));
}

#[test]
fn a_blocked_commit_says_how_to_allow_and_the_recipe_works() {
    let r = support_git::Repo::new();
    r.write("README.md", "hi\n");
    r.commit("init");
    r.write(
        "deploy/kubeconfig",
        &kubeconfig("8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c"),
    );
    r.git(&["add", "deploy/kubeconfig"]);
    let out = leakscan_bounded(
        r.path(),
        &["git", "--staged", "-f", "text", "--no-progress"],
        &[],
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("commit blocked"), "{err}");
    assert!(err.contains("leakscan:allow"), "{err}");
    assert!(err.contains("leakscan baseline create ."), "{err}");
    // Following the message lets the commit through.
    let created = leakscan_bounded(r.path(), &["baseline", "create", "."], &[], LIMIT);
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    let args = [
        "git",
        "--staged",
        "--baseline",
        ".leakscan-baseline.json",
        "--no-progress",
    ];
    let out = leakscan_bounded(r.path(), &args, &[], LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn twenty_thousand_findings_are_all_reported_sorted_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    // One real signed token per file, repeated on every line (each line is its own finding).
    for f in 0..20 {
        let tok = common::legacy_token("ci", "builder", &format!("builder-token-{f:02}"));
        let mut log = String::new();
        for i in 0..1000 {
            log.push_str(&format!(
                "10:00:{:02} DEBUG req {i} Authorization: Bearer {tok}\n",
                i % 60
            ));
        }
        std::fs::write(dir.path().join(format!("app-{f:02}.log")), log).unwrap();
    }
    let run = |format: &str| {
        let args = ["scan", "--no-progress", "-q", "-f", format, "."];
        let out = leakscan_bounded(dir.path(), &args, &[], Duration::from_secs(300));
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        out.stdout
    };
    let doc: serde_json::Value = serde_json::from_slice(&run("json")).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 20_000);
    assert_eq!(doc["stats"]["findings"], 20_000);
    let keys: Vec<(String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "report order: path, then line");
    assert_eq!(keys[0], ("app-00.log".into(), 1));
    assert_eq!(keys[19_999], ("app-19.log".into(), 1000));
    assert!(findings
        .iter()
        .all(|f| f["rule_id"] == "k8s-sa-token-legacy"));

    let sarif: serde_json::Value = serde_json::from_slice(&run("sarif")).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 20_000);
    assert!(results.iter().all(|r| r["ruleIndex"] == 0));
    let text = String::from_utf8(run("text")).unwrap();
    // One token per file here: 20 credentials, each heading followed by its 1,000 places.
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("critical k8s-sa-token-legacy"))
            .count(),
        20
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("    app-")).count(),
        20_000
    );
    assert!(
        text.contains("20 credentials in 20000 locations: 20 critical"),
        "{}",
        &text[text.len() - 200..]
    );
}
