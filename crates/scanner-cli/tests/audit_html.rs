//! `leakscan audit --format html` (issue 12 item 5): the audit as a self-contained page,
//! every credential's section, the alarming ones first, nothing secret.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_audit;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::fs;

use support_audit::fixture::{audit_log, fixture};
use support_audit::{audit, no_secret};
use support_cli::{json_of, stderr};

#[test]
fn the_html_audit_is_a_self_contained_page_most_alarming_first() {
    let fx = fixture();
    fs::write(fx.path("audit.log"), audit_log(&fx)).unwrap();
    let args = [
        fx.s("report.json"),
        "audit.log".to_owned(),
        "--leaked-at".to_owned(),
        "2024-06-01T00:00:00Z".to_owned(),
    ];
    let as_args = |extra: &[&str]| -> Vec<String> {
        args.iter()
            .cloned()
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };
    let html_args = as_args(&["--format", "html"]);
    let html_args: Vec<&str> = html_args.iter().map(String::as_str).collect();
    let out = audit(fx.dir.path(), &html_args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let html = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for attr in ["<script", "src=", "href=", "url("] {
        assert!(!html.contains(attr), "{attr} in a self-contained page");
    }
    no_secret(&fx, "the HTML audit", &html);
    // Every credential of the JSON audit has its section, the used-after-leak ones first.
    let json_args = as_args(&["--format", "json"]);
    let json_args: Vec<&str> = json_args.iter().map(String::as_str).collect();
    let doc = json_of(&audit(fx.dir.path(), &json_args));
    let creds = doc["credentials"].as_array().unwrap();
    assert_eq!(html.matches("<section ").count(), creds.len());
    for c in creds {
        let id = c["credential_id"].as_str().unwrap();
        assert!(html.contains(&format!("credential {id}")), "{id}");
    }
    let first_quiet = html
        .find("<section class=\"low\"")
        .or(html.find("<section class=\"info\""));
    let last_alarm = html
        .rfind("<section class=\"critical\"")
        .expect("a use after the leak");
    assert!(first_quiet.is_none_or(|q| q > last_alarm));
    assert!(html.contains("used after the leak"));
    assert!(html.contains("X-Forwarded-For"));
}
