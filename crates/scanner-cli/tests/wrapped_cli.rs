//! `leakscan scan` on tokens split across lines (issue 9 item 5): where JSON, SARIF and the
//! text report place a reassembled token, and that no piece of it is printed unredacted.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;

use serde_json::Value;
use support_cli::{json_of as json, leakscan_in};

const NOW: &str = "2025-01-01T00:00:00Z";

/// `kubectl describe secret` output as copied from an 80-column terminal: the token's line
/// broken every 80 columns, each rest at column 0.
fn describe_pasted(token: &str) -> String {
    let line = format!("token:      {token}");
    let rows: Vec<&str> = line
        .as_bytes()
        .chunks(80)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "$ kubectl -n kube-system describe secret admin-user-token-22hpd\nName:         admin-user-token-22hpd\n\
         Namespace:    kube-system\n\nType:  kubernetes.io/service-account-token\n\nData\n====\n\
         ca.crt:     1066 bytes\nnamespace:  11 bytes\n{}\n$ \n",
        rows.join("\n")
    )
}

fn only_finding(doc: &Value) -> &Value {
    let all = doc["findings"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{doc:#}");
    &all[0]
}

#[test]
fn a_pasted_wrapped_token_is_located_at_its_first_line_in_every_format() {
    let token = common::legacy_token("kube-system", "admin-user", "admin-user-token-22hpd");
    let dir = tempfile::tempdir().unwrap();
    let text = describe_pasted(&token);
    std::fs::write(dir.path().join("notes.md"), &text).unwrap();
    let token_line = 11;
    let last_line = text.lines().count() - 1;
    let last_len = text.lines().nth(last_line - 1).unwrap().len();

    let doc = json(&leakscan_in(
        dir.path(),
        &[
            "scan",
            "--now",
            NOW,
            "--format",
            "json",
            "--show-secrets",
            ".",
        ],
    ));
    let f = only_finding(&doc);
    assert_eq!(f["rule_id"], "k8s-sa-token-legacy");
    assert_eq!(f["line"], token_line);
    assert_eq!(f["column"], 13);
    assert_eq!(f["end_line"], last_line);
    assert_eq!(f["end_column"], last_len + 1);
    assert_eq!(f["secret"], token.as_str(), "the joined token");
    assert_eq!(f["token"]["service_account"], "admin-user");

    let sarif = json(&leakscan_in(
        dir.path(),
        &["scan", "--now", NOW, "--format", "sarif", "."],
    ));
    let region = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], token_line);
    assert_eq!(region["startColumn"], 13);
    assert_eq!(region["endLine"], last_line);

    // Redacted, neither the head on the first line nor any later piece shows.
    let out = leakscan_in(
        dir.path(),
        &[
            "scan", "--now", NOW, "--format", "text", "--color", "never", ".",
        ],
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains(&format!("{token_line}:13")), "{shown}");
    for piece in text
        .lines()
        .skip(token_line - 1)
        .take(last_line - token_line + 1)
    {
        let piece = piece.trim_start_matches("token:      ");
        assert!(!shown.contains(&piece[..piece.len().min(24)]), "{shown}");
    }
}
