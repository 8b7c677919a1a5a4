//! Issue 13 item 1 (clone URLs): `leakscan git URL…` clones each repository bare into a
//! temporary directory, scans its full history, and removes it; a URL that cannot be
//! cloned is a `repository-error` while the others are scanned, git never waits for a
//! prompt, and a password in a URL is never printed.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support_cli::{json_of, leakscan_bounded, stderr};
use support_git::Repo;

const LIMIT: Duration = Duration::from_secs(60);

/// `leakscan git ARGS` with TMPDIR set to `tmp`, within the time limit.
fn git_scan(tmp: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["git", "--no-progress"];
    all.extend_from_slice(args);
    leakscan_bounded(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &all,
        &[("TMPDIR", tmp.to_str().unwrap())],
        LIMIT,
    )
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn clone_urls_are_scanned_in_full_and_a_broken_one_does_not_stop_the_rest() {
    let a = Repo::new();
    let token = common::legacy_token("payments", "deployer", "deployer-token-7kq2x");
    a.write("README.md", "payments service\n");
    a.commit("init");
    a.write(
        "deploy/ci.env",
        &format!("REGION=eu-west-1\nKUBE_TOKEN={token}\n"),
    );
    let leaked = a.commit("add ci env");
    a.write("deploy/ci.env", "REGION=eu-west-1\n");
    a.commit("remove the token");
    // On a branch only: a bare clone has every branch.
    let b = Repo::new();
    b.write("app.txt", "v1\n");
    b.commit("init");
    b.git(&["checkout", "-q", "-b", "wip"]);
    let other = common::bound_token(
        "web",
        "frontend",
        "web-0",
        "https://oidc.example",
        1_800_000_000,
        3600,
    );
    b.write("k8s/token.txt", &format!("{other}\n"));
    let on_branch = b.commit("wip: debug token");
    b.git(&["checkout", "-q", "main"]);

    let url_a = format!("file://{}", a.path().display());
    let url_b = format!("file://{}/.git", b.path().display());
    let missing = "file:///nonexistent/leakscan-test/repo.git";
    let tmp = tempfile::tempdir().unwrap();
    let out = git_scan(tmp.path(), &[&url_a, missing, &url_b, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json_of(&out);
    let findings = doc["findings"].as_array().unwrap();
    let f = |repo: &str| -> &Value {
        findings
            .iter()
            .find(|f| f["repository"] == repo)
            .unwrap_or_else(|| panic!("no finding in {repo}: {findings:?}"))
    };
    let fa = f(&url_a);
    assert_eq!(fa["rule_id"], "k8s-sa-token-legacy");
    assert_eq!(
        (fa["path"].as_str(), fa["line"].as_u64()),
        (Some("deploy/ci.env"), Some(2))
    );
    assert_eq!(fa["git"]["commit"], leaked.as_str());
    assert_eq!(fa["token"]["namespace"], "payments");
    let fb = f(&url_b);
    assert_eq!(fb["rule_id"], "k8s-sa-token-bound");
    assert_eq!(
        (fb["path"].as_str(), fb["line"].as_u64()),
        (Some("k8s/token.txt"), Some(1))
    );
    assert_eq!(fb["git"]["commit"], on_branch.as_str());
    assert_eq!(findings.len(), 2, "{findings:?}");
    let errors = doc["errors"].as_array().unwrap();
    let e = errors
        .iter()
        .find(|e| e["path"] == missing)
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert_eq!(e["kind"], "repository-error");
    let message = e["message"].as_str().unwrap();
    // What git said, after what leakscan did.
    assert!(
        message.contains("git clone") && message.contains("/nonexistent/leakscan-test/repo.git"),
        "{e}"
    );
    assert_eq!(doc["stats"]["complete"], false);
    assert_eq!(doc["stats"]["commits"], 5);
    let err = stderr(&out);
    assert!(err.contains(&format!("cloning {url_a} (1 of 3)")), "{err}");
    // Each clone went where TMPDIR says and nothing is left of it.
    assert_eq!(entries(tmp.path()), Vec::<String>::new());

    // The same URLs from a --repos file, beside a local path: the same findings.
    let list = tmp.path().join("fleet.txt");
    let local = a.path().display().to_string();
    std::fs::write(&list, format!("# fleet\n{url_a}\n\n{url_b}\n{local}\n")).unwrap();
    let out = git_scan(
        tmp.path(),
        &["--repos", list.to_str().unwrap(), "-f", "json"],
    );
    let doc = json_of(&out);
    let mut repos: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["repository"].as_str().unwrap())
        .collect();
    repos.sort();
    let mut want = vec![local.as_str(), url_a.as_str(), url_b.as_str()];
    want.sort();
    assert_eq!(repos, want);
    assert_eq!(entries(tmp.path()), ["fleet.txt"]);

    // One URL that cannot be cloned is a plain error (exit 2), as for a local path.
    let out = git_scan(tmp.path(), &[missing, "-f", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("git clone"), "{}", stderr(&out));
    // --staged needs a work tree.
    let out = git_scan(tmp.path(), &["--staged", &url_a]);
    assert_eq!(out.status.code(), Some(2));
}

/// An HTTP server on 127.0.0.1 that answers every request 401 (what a private repository
/// says to a client without credentials); it counts the requests.
fn unauthorised_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (port, hits)
}

#[test]
fn git_never_prompts_and_a_password_in_a_url_is_never_printed() {
    let (port, hits) = unauthorised_server();
    let password = "Sup3r-S3cret-Pa55word";
    let token_user = "ghp_leakscanTestToken0123456789abcdef";
    let with_password = format!("http://ci:{password}@127.0.0.1:{port}/org/app.git");
    let with_token = format!("http://{token_user}@127.0.0.1:{port}/org/lib.git");
    let no_credential = format!("http://127.0.0.1:{port}/org/docs.git");
    let a = Repo::new();
    a.write(
        "ci.env",
        &format!(
            "TOKEN={}\n",
            common::legacy_token("ci", "bot", "bot-token-a1b2c")
        ),
    );
    a.commit("add");
    let good = format!("file://{}", a.path().display());
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("fleet.txt");
    std::fs::write(
        &list,
        format!("{with_password}\n{with_token}\n{no_credential}\n{good}\n"),
    )
    .unwrap();
    for format in ["json", "text", "sarif"] {
        // Within the time limit: a prompt would hang (stdin is closed, so would a read).
        let out = git_scan(
            tmp.path(),
            &["--repos", list.to_str().unwrap(), "-f", format],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(password), "{format}: {all}");
        assert!(!all.contains(token_user), "{format}: {all}");
        let shown = format!("http://ci:***@127.0.0.1:{port}/org/app.git");
        assert!(all.contains(&shown), "{format}: {all}");
        assert!(
            all.contains(&format!("http://***@127.0.0.1:{port}/org/lib.git")),
            "{all}"
        );
        if format == "json" {
            let doc = json_of(&out);
            let kinds: Vec<(&str, &str)> = doc["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["path"].as_str().unwrap(), e["kind"].as_str().unwrap()))
                .collect();
            assert!(
                kinds.contains(&(shown.as_str(), "repository-error")),
                "{kinds:?}"
            );
            assert!(
                kinds.contains(&(no_credential.as_str(), "repository-error")),
                "{kinds:?}"
            );
            assert_eq!(doc["findings"][0]["repository"], good.as_str());
            assert!(stderr(&out).contains("carries a credential in the URL"));
        }
        assert_eq!(entries(tmp.path()), ["fleet.txt"]);
    }
    assert!(
        hits.load(std::sync::atomic::Ordering::SeqCst) >= 9,
        "git asked the server"
    );
}
