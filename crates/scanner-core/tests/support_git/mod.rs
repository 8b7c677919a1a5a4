//! Builds real git repositories in temporary directories with the `git` binary, with fixed
//! identities and dates and no dependence on the user's or the machine's git config.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The default author of test commits.
pub const ALICE: (&str, &str) = ("Alice Example", "alice@example.com");

/// A throwaway repository.
pub struct Repo {
    dir: tempfile::TempDir,
    /// Author date counter so commit order is deterministic.
    tick: std::cell::Cell<i64>,
}

impl Repo {
    /// `git init -b main` in a fresh temporary directory.
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = Repo {
            dir,
            tick: std::cell::Cell::new(1_700_000_000),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    /// `git submodule add` of the local repository `sub` at `path` (file:// allowed).
    pub fn add_submodule(&self, sub: &Repo, path: &str) {
        let url = format!("file://{}", sub.path().display());
        self.git(&[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            &url,
            path,
        ]);
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A `git` command in the repository with a hermetic environment.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new("git");
        c.current_dir(self.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", ALICE.0)
            .env("GIT_AUTHOR_EMAIL", ALICE.1)
            .env("GIT_COMMITTER_NAME", ALICE.0)
            .env("GIT_COMMITTER_EMAIL", ALICE.1)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_WORK_TREE");
        c
    }

    /// Runs git and returns its trimmed stdout; panics (failing the test) on error.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("running git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Writes a file in the work tree (creating directories).
    pub fn write(&self, path: &str, content: &str) {
        let p = self.path().join(path);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(p, content).expect("write");
    }

    /// `git mv FROM TO`, creating TO's directory first (git does not).
    pub fn mv(&self, from: &str, to: &str) {
        if let Some(d) = self.path().join(to).parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        self.git(&["mv", from, to]);
    }

    /// `git add -A && git commit` as Alice; returns the commit id.
    pub fn commit(&self, msg: &str) -> String {
        self.commit_as(ALICE, msg)
    }

    /// `git add -A && git commit` by `author` (committer stays Alice); returns the id.
    pub fn commit_as(&self, author: (&str, &str), msg: &str) -> String {
        self.git(&["add", "-A"]);
        let t = self.tick.get() + 3600;
        self.tick.set(t);
        let date = format!("@{t} +0200");
        let out = self
            .cmd()
            .args(["commit", "-q", "--allow-empty", "-m", msg])
            .env("GIT_AUTHOR_NAME", author.0)
            .env("GIT_AUTHOR_EMAIL", author.1)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("git commit");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.head()
    }

    /// The full id of HEAD.
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// The Unix time of the last commit made through [`Repo::commit_as`].
    pub fn last_time(&self) -> i64 {
        self.tick.get()
    }

    /// A path inside the repository.
    pub fn join(&self, p: &str) -> PathBuf {
        self.path().join(p)
    }
}
