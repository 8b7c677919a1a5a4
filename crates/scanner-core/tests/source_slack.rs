//! Slack exports (zip and unpacked): message text is unescaped, findings carry channel,
//! date, ts and the poster's name, and point at the credential inside the day file.

mod common;
mod source_support;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use source_support::*;

const KUBE_TOKEN: &str = "8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c";

/// Serialises like Slack does: pretty-printed, with `/` escaped as `\/`.
fn slack_json(v: &Value) -> Vec<u8> {
    serde_json::to_string_pretty(v)
        .unwrap()
        .replace('/', "\\/")
        .into_bytes()
}

fn msg(user: &str, ts: &str, text: &str) -> Value {
    json!({
        "client_msg_id": "5f1c7d0e-7a55-4f9e-9b54-5b1f0e2f6a11",
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "team": "T0123ABCD",
        "user_team": "T0123ABCD",
        "blocks": [{"type": "rich_text", "elements": [{"type": "rich_text_section",
            "elements": [{"type": "text", "text": text}]}]}],
    })
}

/// The files of a small export: three channels, three users, a bot.
fn export_files() -> Vec<(String, Vec<u8>)> {
    let legacy = common::legacy_token("ci", "deployer", "deployer-token-9x2lq");
    let app = common::app_jwt();
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: https://10.0.0.1:6443\nusers:\n- name: ops\n  user:\n    token: {KUBE_TOKEN}\n"
    );
    let users = json!([
        {"id": "U01ALICE", "name": "alice", "real_name": "Alice Ng", "profile": {"display_name": "alice"}},
        {"id": "U02BOB", "name": "bob", "real_name": "Bob Ortiz"},
        {"id": "U03CAROL", "name": "carol", "real_name": "Carol Diaz"},
    ]);
    let channels = json!([
        {"id": "C01", "name": "general", "created": 1700000000, "members": ["U01ALICE", "U02BOB", "U03CAROL"]},
        {"id": "C02", "name": "ops", "created": 1700000000, "members": ["U02BOB", "U03CAROL"]},
        {"id": "C03", "name": "incident-42", "created": 1709700000, "members": ["U01ALICE"]},
    ]);
    let general = json!([
        msg("U01ALICE", "1709550000.000100", "morning! see https://wiki.example.com/runbooks/deploy"),
        {"type": "message", "subtype": "channel_join", "user": "U03CAROL", "ts": "1709550100.000200",
         "text": "<@U03CAROL> has joined the channel"},
    ]);
    let ops = json!([
        msg(
            "U02BOB",
            "1709640000.000100",
            "CI can't reach the cluster, anyone?"
        ),
        msg(
            "U02BOB",
            "1709640060.000200",
            &format!("here is the deployer token, use it for now: {legacy}")
        ),
        msg(
            "U03CAROL",
            "1709640120.000300",
            &format!("or my kubeconfig:\n```{kubeconfig}```")
        ),
    ]);
    let incident = json!([
        {"type": "message", "subtype": "bot_message", "bot_id": "B01", "username": "deploybot",
         "ts": "1709700000.000100", "text": "deploy failed",
         "attachments": [{"fallback": format!("session {app}"), "text": format!("session {app}"), "color": "danger"}]},
    ]);
    vec![
        ("channels.json".into(), slack_json(&channels)),
        ("users.json".into(), slack_json(&users)),
        ("general/2024-03-04.json".into(), slack_json(&general)),
        ("ops/2024-03-05.json".into(), slack_json(&ops)),
        ("incident-42/2024-03-06.json".into(), slack_json(&incident)),
    ]
}

fn write_dir(root: &Path, files: &[(String, Vec<u8>)]) {
    for (name, data) in files {
        let p = root.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
    }
}

/// Like `pos`, but skips occurrences inside a message's `blocks` (which repeat `text` and
/// are not where findings point). Relies on the pretty-printed layout of `slack_json`.
fn pos_outside_blocks(day: &[u8], needle: &str) -> (usize, usize) {
    let text = std::str::from_utf8(day).unwrap();
    let mut in_blocks = false;
    for (i, line) in text.lines().enumerate() {
        if line == "    \"blocks\": [" {
            in_blocks = true;
        } else if in_blocks && line == "    ]," {
            in_blocks = false;
        } else if let (false, Some(col)) = (in_blocks, line.find(needle)) {
            return (i + 1, col + 1);
        }
    }
    panic!("{needle:.20} not outside blocks");
}

/// Checks the findings of the export whose labels start with `base` (`ZIP!/`, or nothing
/// when the export directory is the scan root), whose day
/// files are `files`.
fn check(out: &Outcome, base: &str, files: &[(String, Vec<u8>)]) {
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let raw = |name: &str| &files.iter().find(|(n, _)| n == name).unwrap().1;
    let got: Vec<_> = out
        .findings
        .iter()
        .map(|f| {
            let ctx = |k: &str| f.context.get(k).cloned().unwrap_or_default();
            (
                f.rule_id.as_str(),
                f.path.clone(),
                ctx("channel"),
                ctx("date"),
                ctx("ts"),
                ctx("user"),
                ctx("user_id"),
            )
        })
        .collect();
    let ops = format!("{base}ops/2024-03-05.json");
    let inc = format!("{base}incident-42/2024-03-06.json");
    let s = String::from;
    assert_eq!(
        got,
        vec![
            (
                "jwt",
                inc.clone(),
                s("incident-42"),
                s("2024-03-06"),
                s("1709700000.000100"),
                s("deploybot"),
                s("")
            ),
            (
                "k8s-sa-token-legacy",
                ops.clone(),
                s("ops"),
                s("2024-03-05"),
                s("1709640060.000200"),
                s("bob"),
                s("U02BOB")
            ),
            (
                "kubeconfig-token",
                ops.clone(),
                s("ops"),
                s("2024-03-05"),
                s("1709640120.000300"),
                s("carol"),
                s("U03CAROL")
            ),
        ]
    );
    // Each finding points at its secret inside the day file, escapes and all.
    for f in &out.findings {
        let name = f.path.strip_prefix(base).unwrap();
        let day = raw(name);
        assert_eq!(
            (f.line, f.column),
            pos_outside_blocks(day, f.secret.expose()),
            "{} in {}",
            f.rule_id,
            f.path
        );
    }
    // The kubeconfig was found only because its `\n` escapes were undone.
    let kc = &out.findings[2];
    assert_eq!(kc.decoded_from, vec!["json_escape".to_string()]);
    assert_eq!(kc.secret.expose(), KUBE_TOKEN);
    assert!(out.findings[1].decoded_from.is_empty());
}

#[test]
fn zipped_export_findings_carry_channel_date_ts_and_user() {
    let dir = tempfile::tempdir().unwrap();
    let files = export_files();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let p = dir.path().join("slack-export.zip");
    fs::write(&p, zip(&refs, true)).unwrap();
    let out = scan(dir.path());
    check(&out, "slack-export.zip!/", &files);
    assert_eq!(out.stats.files, 5);
}

#[test]
fn unpacked_export_directory() {
    let dir = tempfile::tempdir().unwrap();
    let files = export_files();
    let root = dir.path().join("export");
    write_dir(&root, &files);
    let out = scan(&root);
    check(&out, "", &files);
}

#[test]
fn a_day_file_outside_an_export_is_plain_json() {
    let dir = tempfile::tempdir().unwrap();
    let files = export_files();
    // No channels.json / users.json: scanned as ordinary JSON, no Slack context.
    write_dir(dir.path(), &files[3..4]);
    let out = scan(dir.path());
    assert!(!out.findings.is_empty());
    assert!(out.findings.iter().all(|f| f.context.is_empty()));
}

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/slack-export")
}

/// Writes `testdata/slack-export/` (README demo). Run on purpose:
/// `cargo test -p scanner-core --test source_slack -- --ignored`.
#[test]
#[ignore]
fn regenerate_committed_fixture() {
    let root = committed();
    let _ = fs::remove_dir_all(&root);
    write_dir(&root, &export_files());
}

#[test]
fn committed_fixture_for_the_demo() {
    let root = committed();
    let files: Vec<(String, Vec<u8>)> = export_files()
        .into_iter()
        .map(|(n, _)| {
            let data = fs::read(root.join(&n)).expect("testdata/slack-export is committed");
            (n, data)
        })
        .collect();
    let out = scan(&root);
    check(&out, "", &files);
}

#[test]
fn export_in_a_tarball_with_a_folder_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let files = export_files();
    let named: Vec<(String, &[u8])> = files
        .iter()
        .map(|(n, d)| (format!("acme-slack/{n}"), d.as_slice()))
        .collect();
    let refs: Vec<(&str, &[u8])> = named.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    fs::write(dir.path().join("export.tgz"), gz(&tar(&refs))).unwrap();
    let out = scan(dir.path());
    check(&out, "export.tgz!/acme-slack/", &files);
}

/// Found by the `slack` fuzz target: context is read from the same hostile file, so a `ts`
/// (or a name) holding the message text must not carry the secret into the report.
#[test]
fn context_from_a_hostile_day_file_never_carries_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = export_files();
    let tok = common::legacy_token("ci", "deployer", "deployer-token-ts0ts");
    let text = format!("here is the deployer token, use it for now: {tok}");
    let day = json!([msg("U024BE7LH", &format!("1709640000.0 {text}"), &text)]);
    files.retain(|(name, _)| !name.contains('/'));
    files.push(("ops/2024-03-05.json".into(), slack_json(&day)));
    let root = dir.path().join("export");
    write_dir(&root, &files);
    let out = scan(&root);
    assert!(!out.findings.is_empty(), "{:?}", out.errors);
    for f in &out.findings {
        assert!(
            !f.context.contains_key("ts"),
            "not a Slack timestamp: {:?}",
            f.context
        );
        let secret = f.secret.expose();
        assert!(
            f.context.values().all(|v| !v.contains(secret)),
            "{:?}",
            f.context
        );
        assert!(!format!("{f:?}").contains(secret));
    }
}
