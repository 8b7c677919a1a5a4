//! Which repositories one `leakscan git` run scans: the command line's and a `--repos`
//! file's (local paths or clone URLs), then `--shard`'s share of them — a stable hash of
//! each repository, so adding a repository moves only its own work and every pod of an
//! Indexed Job agrees.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use scanner_core::source::git::remote::RemoteUrl;
use sha2::{Digest, Sha256};

/// One repository to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A work tree or git directory on this machine.
    Local(PathBuf),
    /// A clone URL: cloned bare into a temporary directory, scanned, removed.
    Remote(RemoteUrl),
}

impl Target {
    /// A command-line or `--repos` entry: a URL if it looks like one, else a path.
    pub fn from_entry(entry: &Path) -> Target {
        match entry.to_str().and_then(RemoteUrl::parse) {
            Some(url) => Target::Remote(url),
            None => Target::Local(entry.to_owned()),
        }
    }

    /// How reports, messages and the shard hash name it: the path or URL as written, a
    /// URL's password redacted (so rotating a token in a URL moves no repository).
    pub fn name(&self) -> String {
        match self {
            Target::Local(p) => p.to_string_lossy().into_owned(),
            Target::Remote(u) => u.redacted().to_owned(),
        }
    }
}

/// One shard of `count`: `index` in `0..count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parses `I/N` or `k8s-job/N` (I from `job_index`, i.e. JOB_COMPLETION_INDEX).
    pub fn parse(spec: &str, job_index: Option<&str>) -> Result<Shard> {
        let (i, n) = spec
            .split_once('/')
            .with_context(|| format!("--shard {spec}: expected I/N or k8s-job/N"))?;
        let count: u64 = n
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .with_context(|| format!("--shard {spec}: N must be a positive number"))?;
        let index: u64 = if i == "k8s-job" {
            let raw = job_index.context(
                "--shard k8s-job/N: JOB_COMPLETION_INDEX is not set (an Indexed Job sets it)",
            )?;
            raw.parse()
                .with_context(|| format!("JOB_COMPLETION_INDEX={raw}: not a number"))?
        } else {
            i.parse()
                .with_context(|| format!("--shard {spec}: I must be a number"))?
        };
        if index >= count {
            bail!("--shard: index {index} is not below the shard count {count}");
        }
        Ok(Shard { index, count })
    }

    /// Whether `repo` belongs to this shard.
    pub fn takes(&self, repo: &Target) -> bool {
        shard_of(&repo.name(), self.count) == self.index
    }
}

/// The shard of `count` that `repo` falls in: SHA-256 of the repository as written (a
/// URL redacted), without a trailing `/` or `.git` (the same repository written either
/// way is one).
pub fn shard_of(repo: &str, count: u64) -> u64 {
    let s = repo.trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    let h = Sha256::digest(s.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    u64::from_be_bytes(first) % count
}

/// The repositories named on the command line and in `file` (`.` when none is).
pub fn repositories(args: &[PathBuf], file: Option<&Path>) -> Result<Vec<Target>> {
    let mut repos = args.to_vec();
    if let Some(file) = file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("--repos {}", file.display()))?;
        repos.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(PathBuf::from),
        );
    } else if repos.is_empty() {
        repos.push(PathBuf::from("."));
    }
    Ok(repos.iter().map(|r| Target::from_entry(r)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_say_why() {
        assert_eq!(
            Shard::parse("1/4", None).unwrap(),
            Shard { index: 1, count: 4 }
        );
        assert_eq!(
            Shard::parse("k8s-job/3", Some("2")).unwrap(),
            Shard { index: 2, count: 3 }
        );
        for bad in ["4/4", "1/0", "x/2", "3", "k8s-job/x"] {
            assert!(Shard::parse(bad, Some("0")).is_err(), "{bad}");
        }
        let e = Shard::parse("k8s-job/3", None).unwrap_err().to_string();
        assert!(e.contains("JOB_COMPLETION_INDEX"), "{e}");
    }

    #[test]
    fn a_repository_written_two_ways_is_one_shard() {
        for n in [2, 7, 64] {
            let a = shard_of("/srv/git/app", n);
            assert_eq!(shard_of("/srv/git/app/", n), a);
            assert_eq!(shard_of("/srv/git/app.git", n), a);
            let u = shard_of("https://git.example/org/app", n);
            assert_eq!(shard_of("https://git.example/org/app.git", n), u);
            assert_eq!(shard_of("https://git.example/org/app/", n), u);
        }
    }

    #[test]
    fn entries_are_urls_or_paths_and_a_url_shards_by_its_redacted_form() {
        let t = |s: &str| Target::from_entry(Path::new(s));
        assert!(matches!(t("git@github.com:org/app.git"), Target::Remote(_)));
        assert!(matches!(t("file:///srv/git/app"), Target::Remote(_)));
        assert_eq!(
            t("/srv/git/app"),
            Target::Local(PathBuf::from("/srv/git/app"))
        );
        let a = t("https://ci:token-one@git.example/org/app.git");
        let b = t("https://ci:token-two@git.example/org/app.git");
        assert_eq!(a.name(), "https://ci:***@git.example/org/app.git");
        for count in [3, 16, 61] {
            let shard = |i| Shard { index: i, count };
            let of_a = (0..count).find(|&i| shard(i).takes(&a)).unwrap();
            assert!(shard(of_a).takes(&b), "a new token moves no repository");
        }
    }
}
