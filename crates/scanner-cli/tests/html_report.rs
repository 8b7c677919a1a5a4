//! Issue 12 item 5: `--format html` is one self-contained page — credentials grouped, with
//! severity, identity, lifetime and remediation, no script or external asset, secrets
//! redacted — checked by rendering it in headless Chromium and reading what a person sees
//! (the page printed to PDF, its text extracted by pdftotext).

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;

use std::path::Path;
use std::process::Command;

use support_cli::{leakscan_in, stderr};

/// A home directory: a shell history with a legacy token, the same token in a CI log, and
/// a file whose name is markup.
fn home(token: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(
        p.join(".bash_history"),
        format!("kubectl get pods\nexport KUBE_TOKEN={token}\n"),
    )
    .unwrap();
    std::fs::write(
        p.join("notes<script>alert(1).log"),
        format!("Authorization: Bearer {token}\n"),
    )
    .unwrap();
    dir
}

/// The page as Chromium lays it out, as text; `None` when Chromium or pdftotext is missing
/// (a failure under CI=true, where .ci/run installs both).
fn rendered_text(html: &Path) -> Option<String> {
    let pdf = html.with_extension("pdf");
    let chromium = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", pdf.display()),
            &format!("file://{}", html.display()),
        ])
        .output();
    let out = match chromium {
        Ok(o) => o,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("chromium is needed under CI: {e}")
        }
        Err(_) => {
            eprintln!("chromium not installed: skipped");
            return None;
        }
    };
    assert!(
        pdf.exists(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output();
    match text {
        Ok(t) => Some(String::from_utf8_lossy(&t.stdout).into_owned()),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("pdftotext (poppler-utils) is needed under CI: {e}")
        }
        Err(_) => None,
    }
}

#[test]
fn the_html_report_shows_credentials_grouped_and_nothing_secret() {
    let token = common::legacy_token("ci", "deployer", "deployer-token-m4n8z");
    let dir = home(&token);
    let out_dir = tempfile::tempdir().unwrap();
    let report = out_dir.path().join("report.html");
    let out = leakscan_in(
        dir.path(),
        &[
            "scan",
            ".",
            "--format",
            "html",
            "-o",
            report.to_str().unwrap(),
            "--no-progress",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Self-contained and inert: no script, no external asset, the hostile name escaped.
    assert!(
        !html.contains("<script"),
        "markup from a file name got through"
    );
    assert!(html.contains("notes&lt;script&gt;alert(1).log:1:23"));
    for attr in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(attr), "{attr} in a self-contained page");
    }
    assert!(!html.contains(&token), "secret in the report");

    let Some(text) = rendered_text(&report) else {
        return;
    };
    for seen in [
        "1 credential in 2 locations: 1 critical",
        "CRITICAL",
        "k8s-sa-token-legacy",
        "ci/deployer, legacy (never expires)",
        "Fix: Delete Secret ci/deployer-token-m4n8z",
        "kubectl -n ci delete secret deployer-token-m4n8z",
        ".bash_history:2:19",
        "notes<script>alert(1).log:1:23",
    ] {
        assert!(text.contains(seen), "not on the page: {seen}\n{text}");
    }
    assert!(!text.contains(&token[..40]));
}

#[test]
fn show_secrets_puts_the_secret_in_the_page() {
    let token = common::legacy_token("ci", "deployer", "deployer-token-m4n8z");
    let dir = home(&token);
    let out = leakscan_in(
        dir.path(),
        &[
            "scan",
            ".bash_history",
            "--format",
            "html",
            "--show-secrets",
            "--no-progress",
        ],
    );
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.contains(&token));
}
