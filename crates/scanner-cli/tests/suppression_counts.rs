//! Issue 12 item 4: suppressions are counted by the scan that makes them, never by the
//! shared `Scanner`: exact for memory-mapped files scanned window by window (overlap zones
//! belong to one window) and for `--staged`, whose comparison scan of HEAD's version counts
//! nothing.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use support_cli::{json_of, leakscan, leakscan_in};
use support_git::Repo;

fn tok(secret: &str) -> String {
    common::legacy_token("ci", "deployer", secret)
}

#[test]
fn a_mapped_file_counts_each_allowed_token_once() {
    // 40 MiB: five 8 MiB windows scanned in parallel, with allowed tokens right at the
    // window boundaries (inside the shared look-back/look-ahead zones) and between them.
    let dir = tempfile::tempdir().unwrap();
    let allowed = format!("TOKEN={} # leakscan:allow\n", tok("allowed-m4n8z"));
    let filler = "2024-05-01T10:00:00Z INFO request ok path=/v1/orders status=200\n";
    let mut text = String::new();
    let mut n = 0;
    let window = 8 << 20;
    while text.len() < 40 << 20 {
        let next_boundary = (text.len() / window + 1) * window;
        if next_boundary - text.len() < 200 || text.len() % (1 << 20) < filler.len() {
            text.push_str(&allowed);
            n += 1;
        } else {
            text.push_str(filler);
        }
    }
    text.push_str(&format!("KUBE_TOKEN={}\n", tok("real-x2k4q")));
    std::fs::write(dir.path().join("app.log"), &text).unwrap();
    let out = leakscan_in(
        dir.path(),
        &["scan", "app.log", "--format", "json", "--no-progress"],
    );
    let doc = json_of(&out);
    assert_eq!(doc["stats"]["findings"], 1, "{doc:#}");
    assert!(n > 40, "{n}");
    assert_eq!(doc["stats"]["suppressed"], n);
}

#[test]
fn staged_counts_only_the_staged_blobs_allowed_tokens() {
    let r = Repo::new();
    let allowed = format!("TOKEN={} # leakscan:allow\n", tok("allowed-h7q2w"));
    let real = format!("KUBE_TOKEN={}\n", tok("already-committed"));
    r.write("deploy/ci.env", &format!("{allowed}{real}"));
    r.commit("ci settings");
    // Staged: one more line. HEAD's version is scanned to drop what it already had (the
    // real token); its allowed token is not this commit's suppression.
    r.write(
        "deploy/ci.env",
        &format!("{allowed}{real}REGION=eu-west-1\n"),
    );
    r.git(&["add", "deploy/ci.env"]);
    let path = r.path().to_str().unwrap();
    let out = leakscan(&["git", path, "--staged", "--format", "json", "--no-progress"]);
    let doc = json_of(&out);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0, "{doc:#}");
    assert_eq!(doc["stats"]["suppressed"], 1, "{doc:#}");
}
