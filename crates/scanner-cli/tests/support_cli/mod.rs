//! Running the real `leakscan` binary from the CLI tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs leakscan in `dir` with a hermetic git environment (no user or system git config).
pub fn leakscan_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakscan"))
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("running leakscan")
}

/// Runs leakscan in this crate's directory.
pub fn leakscan(args: &[&str]) -> Output {
    leakscan_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// The JSON document on standard output; on failure the panic shows both streams.
pub fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout={} stderr={}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A path under the workspace's `testdata/`.
pub fn testdata(rel: &str) -> String {
    format!("{}/../../testdata/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs leakscan like [`leakscan_in`] with extra environment, killing it and failing the
/// test if it has not finished within `limit` (hostile inputs must never hang a scan).
pub fn leakscan_bounded(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    limit: std::time::Duration,
) -> Output {
    use std::process::Stdio;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakscan"));
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("running leakscan");
    // Drained on their own threads, so a chatty child cannot block on a full pipe.
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|s| Box::new(s) as _));
    let err = drain(child.stderr.take().map(|s| Box::new(s) as _));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for leakscan") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err.join().unwrap_or_default();
            panic!(
                "leakscan {args:?} still running after {limit:?} (killed); stderr: {}",
                String::from_utf8_lossy(&stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// `leakscan scan ARGS --format json --no-progress` in `dir` within `limit`: the exit code
/// and the report. A death by signal (SIGBUS, SIGSEGV ...) fails the test.
pub fn scan_json(dir: &Path, args: &[&str], limit: std::time::Duration) -> (i32, Value) {
    let mut all = vec!["scan", "--format", "json", "--no-progress"];
    all.extend_from_slice(args);
    let out = leakscan_bounded(dir, &all, &[], limit);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        None,
        "killed by a signal"
    );
    let doc = json_of(&out);
    (out.status.code().unwrap_or(-1), doc)
}

/// (path, kind) of every reported error or skip, sorted.
pub fn error_kinds(doc: &Value) -> Vec<(String, String)> {
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
