//! Repositories named by a clone URL: told apart from local paths, shown with any
//! password taken out, and cloned bare (full history) into a temporary directory with the
//! `git` binary, which finds credentials where git users keep them (credential helpers,
//! `GIT_ASKPASS`, the SSH agent). leakscan never takes a credential itself.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// What stands in for a password (or a token used as a user name) in shown URLs.
pub const REDACTED: &str = "***";

/// Why a clone failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CloneError {
    /// The temporary directory could not be made.
    #[error("creating a temporary directory for {url}: {source}")]
    TempDir {
        /// The URL, redacted.
        url: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `git` could not be run.
    #[error("running git to clone {url} (is git installed?): {source}")]
    Spawn {
        /// The URL, redacted.
        url: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `git clone` failed; `message` is what it said, redacted.
    #[error("git clone {url} failed ({status}): {message}")]
    Failed {
        /// The URL, redacted.
        url: String,
        /// git's exit status.
        status: String,
        /// git's standard error, redacted, its first lines only.
        message: String,
    },
}

/// A repository given as a URL: `https://`, `http://`, `ssh://`, `git://`, `file://` or
/// scp-like `user@host:path`.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    raw: String,
    shown: String,
    /// The userinfo's secret part (password, or a token as user name), if any.
    secret: Option<String>,
    /// The URL handed to git: `raw` without its secret, which git gets from
    /// [`CREDENTIAL_HELPER`] instead, so that it never stands on a command line.
    for_git: String,
    /// Whether the secret was the user name (`https://TOKEN@host/…`).
    secret_is_user: bool,
}

impl std::fmt::Debug for RemoteUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RemoteUrl({})", self.shown)
    }
}

impl std::fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

const SCHEMES: &[&str] = &["https://", "http://", "ssh://", "git://", "file://"];

impl RemoteUrl {
    /// `s` as a clone URL, or `None` for a local path.
    pub fn parse(s: &str) -> Option<RemoteUrl> {
        let lower = s.to_ascii_lowercase();
        let scheme = SCHEMES.iter().find(|p| lower.starts_with(*p));
        if scheme.is_none() && !is_scp_like(s) {
            return None;
        }
        let (shown, secret) = redact_one(s);
        let is_http = lower.starts_with("https://") || lower.starts_with("http://");
        let (for_git, secret_is_user) = match (&secret, is_http) {
            (Some(_), true) => strip_secret(s),
            _ => (s.to_owned(), false),
        };
        Some(RemoteUrl {
            raw: s.to_owned(),
            shown,
            secret,
            for_git,
            secret_is_user,
        })
    }

    /// The URL with its password (or a token in the user name) replaced by `***`: what
    /// every message, report and shard hash uses.
    pub fn redacted(&self) -> &str {
        &self.shown
    }

    /// Whether the URL itself carries a credential (better kept in a credential helper).
    pub fn has_credential(&self) -> bool {
        self.secret.is_some()
    }

    /// Whether git reaches it over SSH (`ssh://` or scp-like).
    fn is_ssh(&self) -> bool {
        self.raw.to_ascii_lowercase().starts_with("ssh://") || is_scp_like(&self.raw)
    }

    /// Gives git this URL's secret through [`CREDENTIAL_HELPER`]: the helper list is reset
    /// first (an empty `credential.helper`), so a stored credential for the same host can
    /// neither answer instead nor keep a copy. Added after any `GIT_CONFIG_COUNT` entries
    /// of the user's.
    fn hand_secret_to(&self, cmd: &mut Command) -> Result<(), CloneError> {
        let secret = percent_decode(self.secret.as_deref().unwrap_or_default());
        if secret.contains(['\n', '\r', '\0']) {
            return Err(CloneError::Failed {
                url: self.shown.clone(),
                status: "not started".to_owned(),
                message: "the URL's credential holds a line break or NUL, which git refuses"
                    .to_owned(),
            });
        }
        let n: usize = std::env::var("GIT_CONFIG_COUNT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        cmd.env("GIT_CONFIG_COUNT", (n + 2).to_string())
            .env(format!("GIT_CONFIG_KEY_{n}"), "credential.helper")
            .env(format!("GIT_CONFIG_VALUE_{n}"), "")
            .env(format!("GIT_CONFIG_KEY_{}", n + 1), "credential.helper")
            .env(format!("GIT_CONFIG_VALUE_{}", n + 1), CREDENTIAL_HELPER);
        if self.secret_is_user {
            cmd.env("LEAKSCAN_CLONE_USERNAME", &secret)
                .env("LEAKSCAN_CLONE_PASSWORD", "");
        } else {
            cmd.env_remove("LEAKSCAN_CLONE_USERNAME")
                .env("LEAKSCAN_CLONE_PASSWORD", &secret);
        }
        Ok(())
    }

    /// `text` (git's own words) with this URL's credential and any URL userinfo taken out.
    pub fn redact_text(&self, text: &str) -> String {
        let mut out = redact_urls(text);
        if let Some(s) = self.secret.as_deref().filter(|s| s.len() >= 3) {
            out = out.replace(s, REDACTED);
            let decoded = percent_decode(s);
            if decoded.len() >= 3 {
                out = out.replace(&decoded, REDACTED);
            }
        }
        out
    }
}

/// `user@host:path` (git's scp-like syntax): a `@` and then a `:` before any `/`.
fn is_scp_like(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    let before = &s[..colon];
    match before.rfind('@') {
        Some(at) => at > 0 && at + 1 < before.len() && !before.contains('/'),
        None => false,
    }
}

/// One URL redacted, and the secret taken out of it.
fn redact_one(url: &str) -> (String, Option<String>) {
    let (prefix, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    // scp-like: the authority ends at the `:` before the path.
    let authority = if prefix.is_empty() {
        authority.split(':').next().unwrap_or(authority)
    } else {
        authority
    };
    let Some(at) = authority.rfind('@') else {
        return (url.to_owned(), None);
    };
    let userinfo = &authority[..at];
    let after = &url[prefix.len() + at..];
    let ssh = prefix.is_empty() || prefix.eq_ignore_ascii_case("ssh://");
    match userinfo.split_once(':') {
        Some((user, pass)) => (
            format!("{prefix}{user}:{REDACTED}{after}"),
            Some(pass.to_owned()),
        ),
        // Over SSH the user name is an account (`git@`); over HTTP it is often a token.
        None if ssh => (url.to_owned(), None),
        None => (
            format!("{prefix}{REDACTED}{after}"),
            Some(userinfo.to_owned()),
        ),
    }
}

/// An HTTP(S) URL with its secret taken out: `user:pass@` becomes `user@`, a lone user name
/// (a token) goes; and whether it was the user name.
fn strip_secret(url: &str) -> (String, bool) {
    let Some(i) = url.find("://") else {
        return (url.to_owned(), false);
    };
    let (prefix, rest) = url.split_at(i + 3);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..end].rfind('@') else {
        return (url.to_owned(), false);
    };
    let after = &rest[at..];
    match rest[..at].split_once(':') {
        Some((user, _)) => (format!("{prefix}{user}{after}"), false),
        None => (format!("{prefix}{}", &after[1..]), true),
    }
}

/// The credential helper a clone of a URL with a secret in it gets: it answers git's `get`
/// from the environment of this one git process (`/proc/PID/environ` is readable only by
/// its user, unlike the command line that `ps` shows everyone). `printf` is a shell builtin,
/// so the secret is never an argument of a process either.
const CREDENTIAL_HELPER: &str = "!f() { test \"$1\" = get || return 0; \
     if [ -n \"$LEAKSCAN_CLONE_USERNAME\" ]; then printf 'username=%s\\n' \"$LEAKSCAN_CLONE_USERNAME\"; fi; \
     printf 'password=%s\\n' \"$LEAKSCAN_CLONE_PASSWORD\"; }; f";

/// Every `scheme://user:password@` in `text` with its password (and a lone HTTP user name)
/// replaced by `***`.
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let start = rest[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || "+.-".contains(c)))
            .map_or(0, |p| p + 1);
        let end = rest[i + 3..]
            .find(|c: char| c.is_whitespace() || "'\"<>`/?#".contains(c))
            .map_or(rest.len(), |p| i + 3 + p);
        out.push_str(&rest[..start]);
        out.push_str(&redact_one(&rest[start..end]).0);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `%XX` sequences decoded (the form git may print a password in).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A bare clone on disk; dropping it removes the directory.
#[derive(Debug)]
pub struct BareClone {
    dir: tempfile::TempDir,
}

impl BareClone {
    /// The clone's git directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A `git clone` under way.
#[derive(Debug)]
pub struct PendingClone {
    child: Child,
    dir: tempfile::TempDir,
    url: RemoteUrl,
}

impl PendingClone {
    /// Starts `git clone --bare --quiet URL` into a new temporary directory under `parent`
    /// (default: the system's, `TMPDIR`). git never prompts (`GIT_TERMINAL_PROMPT=0`,
    /// standard input closed, SSH in batch mode unless the user chose an SSH command).
    pub fn start(url: &RemoteUrl, parent: Option<&Path>) -> Result<PendingClone, CloneError> {
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let dir = tempfile::Builder::new()
            .prefix("leakscan-clone-")
            .tempdir_in(&parent)
            .map_err(|source| CloneError::TempDir {
                url: url.shown.clone(),
                source,
            })?;
        let mut cmd = Command::new("git");
        cmd.args(["clone", "--bare", "--quiet", "--"])
            .arg(&url.for_git)
            .arg(dir.path())
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if url.for_git != url.raw {
            url.hand_secret_to(&mut cmd)?;
        }
        if url.is_ssh() && !user_chose_ssh_command() {
            // ssh asks for passwords and host keys on the terminal, not on stdin.
            cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        let child = cmd.spawn().map_err(|source| CloneError::Spawn {
            url: url.shown.clone(),
            source,
        })?;
        Ok(PendingClone {
            child,
            dir,
            url: url.clone(),
        })
    }

    /// git's process id (to stop it if the run is interrupted).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Where the clone is being written (removed when the clone is dropped).
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// Waits for git; the clone, or what git said (redacted).
    pub fn wait(mut self) -> Result<BareClone, CloneError> {
        let mut stderr = Vec::new();
        if let Some(mut e) = self.child.stderr.take() {
            // git --quiet says little; a hostile server could say a lot: keep 64 KiB.
            let _ = e.by_ref().take(64 << 10).read_to_end(&mut stderr);
            let _ = std::io::copy(&mut e, &mut std::io::sink());
        }
        let status = self.child.wait().map_err(|source| CloneError::Spawn {
            url: self.url.shown.clone(),
            source,
        })?;
        if status.success() {
            return Ok(BareClone { dir: self.dir });
        }
        let text = self.url.redact_text(&String::from_utf8_lossy(&stderr));
        // git's first `fatal:` line says what went wrong; the advice after it is generic.
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let message = lines[..lines.len().min(6)].join(" ");
        Err(CloneError::Failed {
            url: self.url.shown.clone(),
            status: status.to_string(),
            message: if message.is_empty() {
                "no message".to_owned()
            } else {
                message
            },
        })
    }
}

/// Whether the user picked how git runs ssh (`GIT_SSH_COMMAND`, `GIT_SSH`, or
/// `core.sshCommand`): then theirs is left alone. Asked once per run.
fn user_chose_ssh_command() -> bool {
    static CHOSEN: OnceLock<bool> = OnceLock::new();
    *CHOSEN.get_or_init(|| {
        std::env::var_os("GIT_SSH_COMMAND").is_some()
            || std::env::var_os("GIT_SSH").is_some()
            || Command::new("git")
                .args(["config", "--get", "core.sshCommand"])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        for url in [
            "https://github.com/org/app.git",
            "HTTP://host/x",
            "ssh://git@host:2222/org/app",
            "git://host/app",
            "file:///srv/git/app",
            "git@github.com:org/app.git",
        ] {
            assert!(RemoteUrl::parse(url).is_some(), "{url}");
        }
        for path in [
            ".",
            "/srv/git/app",
            "../app.git",
            "C:relative",
            "/srv/a@b:c",
            "dir/user@host:x",
            "@host:x",
        ] {
            assert!(RemoteUrl::parse(path).is_none(), "{path}");
        }
    }

    #[test]
    fn credentials_never_show() {
        let cases = [
            (
                "https://alice:s3cr3t-pass@git.example/org/app.git",
                "https://alice:***@git.example/org/app.git",
            ),
            (
                "https://ghp_abcdefTOKEN@github.com/org/app",
                "https://***@github.com/org/app",
            ),
            ("ssh://git@host/org/app", "ssh://git@host/org/app"),
            ("ssh://git:pw123@host/org/app", "ssh://git:***@host/org/app"),
            ("git@github.com:org/app.git", "git@github.com:org/app.git"),
            ("https://host/p@th", "https://host/p@th"),
        ];
        for (raw, shown) in cases {
            let u = RemoteUrl::parse(raw).unwrap();
            assert_eq!(u.redacted(), shown);
            assert_eq!(u.to_string(), shown);
            assert_eq!(format!("{u:?}"), format!("RemoteUrl({shown})"));
        }
        let u = RemoteUrl::parse("https://bob:p%40ss-w0rd@h/x").unwrap();
        assert!(u.has_credential());
        let said = "fatal: unable to access 'https://bob:p%40ss-w0rd@h/x/': denied for p@ss-w0rd";
        let r = u.redact_text(said);
        assert!(!r.contains("p%40ss") && !r.contains("p@ss-w0rd"), "{r}");
        assert!(r.contains("https://bob:***@h/x/"), "{r}");
        assert_eq!(
            redact_urls("see http://u:pw@a/b and ssh://git@c/d"),
            "see http://u:***@a/b and ssh://git@c/d"
        );
    }

    #[test]
    fn percent_decoding_stops_at_the_end() {
        assert_eq!(percent_decode("a%41%4"), "aA%4");
        assert_eq!(percent_decode("%"), "%");
    }

    #[test]
    fn git_is_handed_http_urls_without_their_secret() {
        let pass = RemoteUrl::parse("https://ci:p%40ss@git.example/org/app.git?x=1").unwrap();
        assert_eq!(pass.for_git, "https://ci@git.example/org/app.git?x=1");
        assert!(!pass.secret_is_user);
        let token = RemoteUrl::parse("https://ghp_0123456789abcdef@git.example/a").unwrap();
        assert_eq!(token.for_git, "https://git.example/a");
        assert!(token.secret_is_user);
        // No secret, or SSH (whose password is never in the URL git uses): unchanged.
        for url in [
            "https://git.example/a",
            "ssh://git@host/a",
            "git@host:a.git",
        ] {
            assert_eq!(RemoteUrl::parse(url).unwrap().for_git, url);
        }
        let mut cmd = Command::new("git");
        let bad = RemoteUrl::parse("https://u:a%0Ab@h/x").unwrap();
        assert!(bad.hand_secret_to(&mut cmd).is_err());
    }
}
