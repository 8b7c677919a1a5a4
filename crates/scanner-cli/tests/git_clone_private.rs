//! Issue 13 item 1, private repositories: a git smart-HTTP server on 127.0.0.1 (`git
//! http-backend` behind a small HTTP front that demands Basic authentication) is cloned
//! with credentials from where git users keep them — a credential helper, `GIT_ASKPASS`,
//! the URL itself — and never from a leakscan flag; without any, the clone fails at once
//! as a `repository-error`. The password shows in no report format, no message and no
//! merged report.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use support_cli::{json_of, leakscan_bounded, stderr};
use support_git::Repo;

const USER: &str = "ci-bot";
const PASSWORD: &str = "Priv4te-Pa55-9f8e7d6c";
const LIMIT: Duration = Duration::from_secs(60);

/// Requests the server answered with the repository (authenticated) and with 401.
#[derive(Default)]
struct Hits {
    ok: AtomicUsize,
    refused: AtomicUsize,
}

/// Serves the bare repositories under `root` over git's smart HTTP on 127.0.0.1,
/// requiring `USER:PASSWORD`.
fn private_server(root: PathBuf) -> (u16, Arc<Hits>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(Hits::default());
    let h = hits.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (root, h) = (root.clone(), h.clone());
            std::thread::spawn(move || {
                let _ = serve(conn, &root, &h);
            });
        }
    });
    (port, hits)
}

/// One request: 401 unless it carries the right Basic credentials, else `git
/// http-backend` run as a CGI program.
fn serve(conn: TcpStream, root: &Path, hits: &Hits) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut r = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (method, target) = (method.to_owned(), target.to_owned());
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let mut body = Vec::new();
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = headers.get("content-length") {
        body.resize(n.parse().unwrap_or(0), 0);
        r.read_exact(&mut body)?;
    }
    let mut w = conn;
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    );
    if headers.get("authorization") != Some(&want) {
        hits.refused.fetch_add(1, Ordering::SeqCst);
        return w.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n\
              Content-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    hits.ok.fetch_add(1, Ordering::SeqCst);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let header = |k: &str| headers.get(k).cloned().unwrap_or_default();
    let mut cgi = Command::new("git")
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_USER", USER)
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = cgi.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let out = cgi.wait_with_output()?.stdout;
    // CGI: headers, a blank line, the body; `Status:` says the HTTP status.
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (end, sep) = split.unwrap_or((out.len(), 0));
    let head = String::from_utf8_lossy(&out[..end]);
    let mut status = "200 OK".to_owned();
    let mut response = String::new();
    for h in head.lines().filter(|l| !l.trim().is_empty()) {
        match h.strip_prefix("Status:") {
            Some(s) => status = s.trim().to_owned(),
            None => response.push_str(&format!("{}\r\n", h.trim_end())),
        }
    }
    let payload = &out[(end + sep).min(out.len())..];
    write!(
        w,
        "HTTP/1.1 {status}\r\n{response}Content-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    )?;
    w.write_all(payload)
}

/// A private repository with a token committed in its history, served at
/// `http://127.0.0.1:PORT/org/app.git`; its leak commit.
struct Private {
    _root: tempfile::TempDir,
    _source: Repo,
    port: u16,
    hits: Arc<Hits>,
    commit: String,
}

fn private_repository() -> Private {
    let source = Repo::new();
    source.write("README.md", "internal service\n");
    source.commit("init");
    let token = common::legacy_token("billing", "deployer", "deployer-token-p4r7v");
    source.write("ops/deploy.env", &format!("# ops\nKUBE_TOKEN={token}\n"));
    let commit = source.commit("deploy env");
    source.write("ops/deploy.env", "# ops\n");
    source.commit("drop the token");
    let root = tempfile::tempdir().unwrap();
    let bare = root.path().join("org/app.git");
    let out = Command::new("git")
        .args(["clone", "--bare", "--quiet"])
        .arg(source.path())
        .arg(&bare)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (port, hits) = private_server(root.path().to_owned());
    Private {
        _root: root,
        _source: source,
        port,
        hits,
        commit,
    }
}

fn scan(tmp: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all = vec!["git", "--no-progress"];
    all.extend_from_slice(args);
    let mut env = env.to_vec();
    env.push(("TMPDIR", tmp.to_str().unwrap()));
    env.push(("HOME", tmp.to_str().unwrap()));
    leakscan_bounded(tmp, &all, &env, LIMIT)
}

/// The one finding of the private repository, as the user checks it.
fn assert_found(out: &Output, p: &Private, repository: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    let doc = json_of(out);
    let f = &doc["findings"][0];
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{doc}");
    assert_eq!(f["rule_id"], "k8s-sa-token-legacy");
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("ops/deploy.env"), Some(2))
    );
    assert_eq!(f["git"]["commit"], p.commit.as_str());
    assert_eq!(f["token"]["namespace"], "billing");
    assert_eq!(f["repository"], repository);
    assert_eq!(doc["errors"], Value::Array(vec![]));
}

fn everything(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn private_repositories_are_cloned_with_gits_own_credentials() {
    let p = private_repository();
    let url = format!("http://127.0.0.1:{}/org/app.git", p.port);
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();

    // No credential anywhere: refused at once (git may not prompt), a plain error.
    let out = scan(t, &[&url, "-f", "json"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("git clone") && err.contains(&url), "{err}");
    assert!(
        err.contains("terminal prompts disabled") || err.contains("Authentication failed"),
        "{err}"
    );
    assert_eq!(p.hits.ok.load(Ordering::SeqCst), 0);
    assert!(p.hits.refused.load(Ordering::SeqCst) >= 1);

    // A credential helper in git's configuration (here a global one).
    let gitconfig = t.join("gitconfig");
    std::fs::write(
        &gitconfig,
        format!(
            "[credential]\n\thelper = \"!f() {{ test \\\"$1\\\" = get && printf 'username={USER}\\\\npassword={PASSWORD}\\\\n'; }}; f\"\n"
        ),
    )
    .unwrap();
    let cfg = gitconfig.to_str().unwrap();
    let out = scan(t, &[&url, "-f", "json"], &[("GIT_CONFIG_GLOBAL", cfg)]);
    assert_found(&out, &p, &url);
    assert!(!everything(&out).contains(PASSWORD));
    let served = p.hits.ok.load(Ordering::SeqCst);
    assert!(served >= 2, "refs and pack were served: {served}");

    // GIT_ASKPASS: git asks a program for the user name and the password.
    let askpass = t.join("askpass.sh");
    std::fs::write(
        &askpass,
        format!("#!/bin/sh\ncase \"$1\" in Username*) echo {USER} ;; *) echo {PASSWORD} ;; esac\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o700)).unwrap();
    let list = t.join("repos.txt");
    std::fs::write(&list, format!("# private\n{url}\n")).unwrap();
    let out = scan(
        t,
        &["--repos", list.to_str().unwrap(), "-f", "json"],
        &[("GIT_ASKPASS", askpass.to_str().unwrap())],
    );
    assert_found(&out, &p, &url);
    assert!(p.hits.ok.load(Ordering::SeqCst) > served);

    // No leakscan flag takes a credential: git's places are the only ones.
    let help = scan(t, &["--help"], &[]);
    let flags: Vec<&str> = std::str::from_utf8(&help.stdout)
        .unwrap()
        .split_whitespace()
        .filter(|w| w.starts_with("--"))
        .collect();
    assert!(flags.len() > 10, "{flags:?}");
    for f in &flags {
        for word in ["password", "token", "credential", "user", "askpass"] {
            assert!(!f.contains(word), "leakscan git {f}");
        }
    }

    // Only leakscan's temporary clones came and went.
    let left: Vec<String> = std::fs::read_dir(t)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("leakscan-clone-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_password_in_a_url_that_works_is_redacted_everywhere() {
    let p = private_repository();
    let with_password = format!("http://{USER}:{PASSWORD}@127.0.0.1:{}/org/app.git", p.port);
    let shown = format!("http://{USER}:***@127.0.0.1:{}/org/app.git", p.port);
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let list = t.join("repos.txt");
    std::fs::write(&list, format!("{with_password}\n")).unwrap();
    let repos = list.to_str().unwrap();

    // git is run through a wrapper that logs its command line: what `ps` would show.
    let bin = t.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let real_git = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let argv_log = t.join("git-argv.log");
    let wrapper = bin.join("git");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            argv_log.display(),
            real_git.trim()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = scan(
        t,
        &["--repos", repos, "-f", "json", "-o", "shard.json"],
        &[("PATH", &path)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let argv = std::fs::read_to_string(&argv_log).unwrap();
    assert!(argv.contains("clone --bare"), "{argv}");
    assert!(
        argv.contains(&format!("http://{USER}@127.0.0.1:{}/org/app.git", p.port)),
        "{argv}"
    );
    assert!(
        !argv.contains(PASSWORD),
        "the password was on git's command line: {argv}"
    );
    let err = stderr(&out);
    assert!(err.contains(&format!("cloning {shown} (1 of 1)")), "{err}");
    assert!(err.contains("carries a credential in the URL"), "{err}");
    let report = std::fs::read_to_string(t.join("shard.json")).unwrap();
    let doc: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(doc["findings"][0]["repository"], shown.as_str());
    assert_eq!(doc["findings"][0]["git"]["commit"], p.commit.as_str());
    assert!(!everything(&out).contains(PASSWORD) && !report.contains(PASSWORD));

    for format in ["text", "jsonl", "sarif", "html"] {
        let out = scan(
            t,
            &["--repos", repos, "-f", format, "--color", "never"],
            &[],
        );
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        let all = everything(&out);
        assert!(!all.contains(PASSWORD), "{format}: {all}");
        assert!(all.contains(&shown), "{format}: {all}");
    }
    // Merged, in every format, it stays redacted.
    for format in ["json", "text", "sarif", "html"] {
        let out = leakscan_bounded(
            t,
            &["merge", "shard.json", "-f", format, "--color", "never"],
            &[],
            LIMIT,
        );
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        let all = everything(&out);
        assert!(!all.contains(PASSWORD), "{format}: {all}");
        assert!(all.contains(&shown), "{format}: {all}");
    }

    // A wrong password in the URL: git's refusal, redacted, as the message.
    let wrong = format!(
        "http://{USER}:Wr0ng-Pa55-0a1b2c@127.0.0.1:{}/org/app.git",
        p.port
    );
    let good = format!("http://{USER}:{PASSWORD}@127.0.0.1:{}/org/app.git", p.port);
    let out = scan(t, &[&wrong, &good, "-f", "json"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let all = everything(&out);
    assert!(
        !all.contains("Wr0ng-Pa55-0a1b2c") && !all.contains(PASSWORD),
        "{all}"
    );
    let doc = json_of(&out);
    let e = &doc["errors"][0];
    assert_eq!(e["kind"], "repository-error");
    assert_eq!(
        e["path"],
        format!("http://{USER}:***@127.0.0.1:{}/org/app.git", p.port).as_str()
    );
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
}
