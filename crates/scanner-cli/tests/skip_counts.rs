//! Nothing is skipped silently (issue 10 item 2): whatever a scan of a home directory leaves
//! out — hidden entries, ignore rules, `--exclude`, size, binary, special files — is counted
//! by reason in the summary line, JSON `stats.skipped_by_reason` and SARIF notifications,
//! and `-v` names each path.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support_cli::{leakscan_bounded, stderr};

const LIMIT: Duration = Duration::from_secs(60);

/// The options that narrow the scan, as a user would type them.
const NARROW: [&str; 4] = [
    "--skip-hidden",
    "--respect-gitignore",
    "--max-file-size",
    "1K",
];

fn write(root: &Path, rel: &str, data: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, data).unwrap();
}

/// A home directory: `.kube/config`, `.bash_history` with a `kubectl --token`, a real git
/// checkout whose `.gitignore` hides `secrets/` (with a `.env`) and `node_modules/`, a
/// photo, a FIFO and a big log.
fn home() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let kube_token = common::legacy_token("kube-system", "admin", "admin-token-x7k2p");
    let history_token = common::legacy_token("ci", "deployer", "deployer-token-9qz4m");
    let env_token = common::legacy_token("prod", "payments", "payments-token-2b8vd");
    write(
        home,
        ".kube/config",
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    \
             server: https://10.0.0.1:6443\nusers:\n- name: admin\n  user:\n    \
             token: {kube_token}\n"
        )
        .as_bytes(),
    );
    write(
        home,
        ".bash_history",
        format!("ls -la\nkubectl --token={history_token} get pods -A\nexit\n").as_bytes(),
    );
    let proj = home.join("src/shop");
    fs::create_dir_all(&proj).unwrap();
    let st = Command::new("git")
        .args(["init", "-q"])
        .current_dir(&proj)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .expect("git init");
    assert!(st.success());
    write(&proj, ".gitignore", b"secrets/\nnode_modules/\n");
    write(
        &proj,
        "secrets/.env",
        format!("PAYMENTS_KUBE_TOKEN={env_token}\n").as_bytes(),
    );
    write(
        &proj,
        "node_modules/left-pad/index.js",
        b"module.exports = leftPad;\n",
    );
    write(&proj, "main.go", b"package main\n\nfunc main() {}\n");
    write(
        home,
        "Pictures/cat.png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0",
    );
    let st = Command::new("mkfifo")
        .arg(home.join("agent.sock.fifo"))
        .status()
        .unwrap();
    assert!(st.success());
    write(home, "logs/build.log", &b"step ok\n".repeat(1000));
    dir
}

/// `leakscan scan . ARGS --format FORMAT` in `home`: (exit code, stdout, stderr).
fn scan(home: &Path, format: &str, args: &[&str]) -> (i32, Vec<u8>, String) {
    let mut all = vec!["scan", ".", "--no-progress", "--format", format];
    all.extend_from_slice(args);
    let out = leakscan_bounded(home, &all, &[], LIMIT);
    (
        out.status.code().unwrap_or(-1),
        out.stdout.clone(),
        stderr(&out),
    )
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

fn by_reason(stats: &Value) -> BTreeMap<String, u64> {
    serde_json::from_value(stats["skipped_by_reason"].clone()).unwrap_or_default()
}

#[test]
fn narrowed_scan_counts_every_reason_exactly() {
    let dir = home();
    let (code, out, err) = scan(dir.path(), "json", &NARROW);
    let doc: Value = serde_json::from_slice(&out).unwrap();
    let stats = &doc["stats"];
    // .kube and node_modules/secrets are directories: each counts once, whatever is in it.
    // .git is not content and never counted.
    assert_eq!(
        by_reason(stats),
        counts(&[
            ("hidden", 3),
            ("ignored", 2),
            ("media", 1),
            ("fifo", 1),
            ("too-large", 1),
        ]),
        "{err}"
    );
    assert_eq!(stats["skipped"], 7, "hidden + ignored + media + fifo");
    assert_eq!(stats["incomplete"], 1, "the big log");
    assert_eq!(stats["files"], 1, "only main.go is read");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0);
    assert_eq!(code, 0);
    // The summary names each reason with its count.
    assert!(err.contains("7 skipped"), "{err}");
    assert!(
        err.contains("skipped on purpose: 1 fifo, 3 hidden, 2 ignored, 1 media"),
        "{err}"
    );
    assert!(err.contains("INCOMPLETE: 1 input could not be read in full (1 too-large)"));
    // Without -v, what was asked to be left out is not listed one by one.
    assert!(!err.contains(".bash_history"), "{err}");
}

#[test]
fn default_scan_finds_the_secrets_and_counts_no_hidden_or_ignored() {
    let dir = home();
    let (code, out, err) = scan(dir.path(), "json", &["--max-file-size", "1K"]);
    let doc: Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let mut found: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["rule_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    found.dedup();
    let paths: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        paths,
        [".bash_history", ".kube/config", "src/shop/secrets/.env"],
        "{found:?} {err}"
    );
    assert_eq!(code, 1);
    let reasons = by_reason(&doc["stats"]);
    assert_eq!(
        reasons,
        counts(&[("media", 1), ("fifo", 1), ("too-large", 1)]),
        "{err}"
    );
    assert!(err.contains("skipped on purpose: 1 fifo, 1 media"), "{err}");
}

#[test]
fn verbose_lists_each_path_with_its_reason() {
    let dir = home();
    let (_, out, err) = scan(dir.path(), "json", &[&NARROW[..], &["-v"]].concat());
    for (path, kind) in [
        (".bash_history", "hidden"),
        (".kube", "hidden"),
        ("src/shop/.gitignore", "hidden"),
        ("src/shop/node_modules", "ignored"),
        ("src/shop/secrets", "ignored"),
        ("Pictures/cat.png", "media"),
        ("agent.sock.fifo", "fifo"),
        ("logs/build.log", "too-large"),
    ] {
        let line = err
            .lines()
            .find(|l| l.starts_with(&format!("leakscan: warning: {path}: ")))
            .unwrap_or_else(|| panic!("{path} not listed:\n{err}"));
        assert!(line.ends_with(&format!("({kind})")), "{line}");
    }
    let line = err
        .lines()
        .find(|l| l.contains("src/shop/secrets:"))
        .unwrap();
    assert!(
        line.contains("ignored by `secrets/` in src/shop/.gitignore"),
        "names the rule: {line}"
    );
    // The JSON errors list them too (with -v, routine skips are kept).
    let doc: Value = serde_json::from_slice(&out).unwrap();
    let listed = support_cli::error_kinds(&doc);
    assert_eq!(listed.len(), 8, "{listed:?}");
    assert!(listed.contains(&(".kube".into(), "hidden".into())));
    assert!(!listed
        .iter()
        .any(|(p, _)| p.contains(".git/") || p.ends_with(".git")));
}

#[test]
fn exclude_globs_are_counted() {
    let dir = home();
    let (_, out, err) = scan(
        dir.path(),
        "json",
        &["--exclude", "*.log", "--exclude", "Pictures/"],
    );
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        by_reason(&doc["stats"]),
        counts(&[("excluded", 2), ("fifo", 1)]),
        "{err}"
    );
    assert!(
        err.contains("skipped on purpose: 2 excluded, 1 fifo"),
        "{err}"
    );
}

#[test]
fn sarif_notifications_carry_the_counts_and_validate() {
    let dir = home();
    let (_, out, err) = scan(dir.path(), "sarif", &NARROW);
    let doc: Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let inv = &doc["runs"][0]["invocations"][0];
    let mut got: BTreeMap<String, u64> = BTreeMap::new();
    for n in inv["toolExecutionNotifications"].as_array().unwrap() {
        if let Some(c) = n["properties"]["count"].as_u64() {
            let kind = n["descriptor"]["id"].as_str().unwrap().to_owned();
            let class = n["properties"]["class"].as_str().unwrap();
            let level = n["level"].as_str().unwrap();
            if kind == "too-large" {
                assert_eq!((class, level), ("incomplete", "warning"));
            } else {
                assert_eq!((class, level), ("skipped", "note"), "{kind}");
            }
            got.insert(kind, c);
        }
    }
    assert_eq!(
        got,
        counts(&[
            ("hidden", 3),
            ("ignored", 2),
            ("media", 1),
            ("fifo", 1),
            ("too-large", 1),
        ])
    );
    assert_eq!(inv["properties"]["skipped"], 7);
    assert_eq!(inv["properties"]["complete"], false);

    let Some(schema) = common::thirdparty("sarif-schema-2.1.0.json") else {
        return;
    };
    let schema: Value = serde_json::from_str(&fs::read_to_string(schema).unwrap()).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
    // A notification of the wrong shape must fail, or the check above proves nothing.
    let mut broken = doc.clone();
    broken["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["level"] =
        Value::from("loud");
    assert!(!validator.is_valid(&broken));
}
