//! Pre-commit scans: what `git commit` would record, judged from the index blobs.
//!
//! Only index entries whose blob differs from HEAD's entry at the same path are read, so
//! the cost follows the size of the change, not of the repository. Findings whose secret
//! is already in HEAD's version of the file (or whose whole blob is already in HEAD, a
//! pure rename or copy) are not reported again.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use git2::{Index, ObjectType, Oid, Repository, Tree};

use super::fanout::{content_options, scan_object, sized, Scanned};
use super::objects::{LooseObjects, Objects};
use super::stream::Packs;
use super::{open, Error, Result};
use crate::scanner::Scanner;
use crate::source::archive::ArchiveLimits;
use crate::source::fs::ScanOptions;
use crate::source::Events;

/// What a staged scan did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StagedStats {
    /// Index entries that differ from HEAD and were scanned.
    pub files: u64,
    /// Bytes scanned (staged blobs only).
    pub bytes: u64,
    /// Findings dropped because HEAD already had them.
    pub already_in_head: u64,
    /// Staged blobs skipped for size (reported as `too-large`).
    pub skipped: u64,
}

/// How to run a staged scan.
#[derive(Debug, Clone, Default)]
pub struct StagedOptions {
    /// Blobs larger than this are skipped with a `too-large` warning (`None`: no limit).
    pub max_blob_size: Option<u64>,
    /// Staged archives are opened within these limits, as in files.
    pub archive: ArchiveLimits,
}

/// [`scan_staged_with`] with default options (no size limit).
pub fn scan_staged(
    repo_path: &Path,
    scanner: &Scanner,
    events: &dyn Events,
) -> Result<StagedStats> {
    scan_staged_with(repo_path, scanner, &StagedOptions::default(), events)
}

/// Scans the staged content of the repository at or above `repo_path`: every index entry
/// whose blob differs from HEAD's (all of them before the first commit). Line numbers are
/// those of the staged file. The index is the one `git commit` is about to record:
/// `GIT_INDEX_FILE` when git sets it (`git commit -a`, `git commit PATH` stage into a
/// temporary index and run the hooks with it), else the repository's own.
pub fn scan_staged_with(
    repo_path: &Path,
    scanner: &Scanner,
    opts: &StagedOptions,
    events: &dyn Events,
) -> Result<StagedStats> {
    let repo = open(repo_path)?;
    let loose = LooseObjects::list(repo.path());
    let packs = Packs::new(repo.path());
    let objs = Objects {
        repo: &repo,
        loose: &loose,
        packs: &packs,
    };
    let index = staged_index(&repo)?;
    let head = head_tree(objs, events);
    let mut stats = StagedStats::default();
    let mut dirs: HashMap<Vec<u8>, Option<Tree<'_>>> = HashMap::new();
    let mut head_blobs: Option<HashSet<Oid>> = None;
    let content = content_options(&opts.archive);
    for entry in index.iter() {
        // Stage bits (12-13) set: an unresolved conflict, which cannot be committed.
        if (entry.flags >> 12) & 0x3 != 0 || entry.mode & 0o170000 == 0o160000 {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path).into_owned();
        let head_id = head
            .as_ref()
            .and_then(|h| head_entry(objs, h, &entry.path, &mut dirs));
        if head_id == Some(entry.id) {
            continue;
        }
        let unreadable = |e: &git2::Error| {
            events.error(
                &path,
                super::error_kind(e),
                &format!("staged blob {}: {}", entry.id, e.message()),
            );
        };
        let size = match sized(objs, entry.id, opts.max_blob_size, &|| path.clone(), events) {
            Ok(Some(size)) => size,
            Ok(None) => {
                stats.skipped += 1;
                continue;
            }
            Err(e) => {
                unreadable(&e);
                continue;
            }
        };
        let Scanned { found, read, .. } =
            scan_object(objs, scanner, &content, entry.id, size, &path);
        for (member, kind, msg) in &found.problems {
            events.error(member, *kind, msg);
        }
        // Only the staged blob's own: HEAD's version is scanned below to compare, and what
        // the user allowed there is not this commit's.
        events.suppressed(found.suppressed);
        let mut findings = found.findings;
        if !findings.is_empty() {
            let known = match (head_id, head.as_ref()) {
                (Some(old), _) => secrets_in(objs, scanner, &content, old, &path, opts),
                // A new path: a pure rename or copy of a blob HEAD already has adds nothing.
                (None, Some(h)) => {
                    let blobs = head_blobs.get_or_insert_with(|| all_blobs(objs, h));
                    if blobs.contains(&entry.id) {
                        stats.already_in_head += findings.len() as u64;
                        findings.clear();
                    }
                    HashSet::new()
                }
                (None, None) => HashSet::new(),
            };
            for f in findings {
                if known.contains(&(f.rule_id.clone(), f.secret.expose().to_owned())) {
                    stats.already_in_head += 1;
                } else {
                    events.finding(f);
                }
            }
        }
        match read {
            Ok(n) => {
                stats.files += 1;
                stats.bytes += n;
                events.scanned(&path, n);
            }
            Err(e) => unreadable(&e),
        }
    }
    Ok(stats)
}

/// The index `git commit` records: `GIT_INDEX_FILE` (relative to the current directory,
/// where git runs its hooks) or the repository's own index.
fn staged_index(repo: &Repository) -> Result<Index> {
    match std::env::var_os("GIT_INDEX_FILE").filter(|v| !v.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            let path = if path.is_relative() {
                std::env::current_dir().map_or(path.clone(), |d| d.join(&path))
            } else {
                path
            };
            Index::open(&path).map_err(Error::Index)
        }
        None => repo.index().map_err(Error::Index),
    }
}

/// HEAD's tree; `None` on an unborn branch (everything is new) or when it cannot be read
/// (then everything counts as new too, and the problem is reported).
fn head_tree<'r>(objs: Objects<'r>, events: &dyn Events) -> Option<Tree<'r>> {
    let id = objs.repo.head().ok()?.target()?;
    let tree = objs
        .peel_to_commit(id)
        .and_then(|c| c.ok_or_else(|| git2::Error::from_str("HEAD is not a commit")))
        .and_then(|c| objs.commit_tree(c));
    match tree {
        Ok(t) => Some(t),
        Err(e) => {
            events.error(
                "HEAD",
                super::error_kind(&e),
                &format!("{}; every staged file is scanned as new", e.message()),
            );
            None
        }
    }
}

/// HEAD's blob id at `path`, resolving each directory's tree once per run.
fn head_entry<'r>(
    objs: Objects<'r>,
    head: &Tree<'r>,
    path: &[u8],
    dirs: &mut HashMap<Vec<u8>, Option<Tree<'r>>>,
) -> Option<Oid> {
    let (dir, name) = match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&path[..0], path),
    };
    if dir.is_empty() {
        return blob_id(head.get_name_bytes(name));
    }
    if !dirs.contains_key(dir) {
        let tree = objs
            .entry_at(head, dir)
            .filter(|&(_, kind)| kind == ObjectType::Tree)
            .and_then(|(id, _)| objs.tree(id).ok());
        dirs.insert(dir.to_vec(), tree);
    }
    dirs.get(dir)
        .and_then(|t| t.as_ref())
        .and_then(|t| blob_id(t.get_name_bytes(name)))
}

fn blob_id(e: Option<git2::TreeEntry<'_>>) -> Option<Oid> {
    e.filter(|e| e.kind() == Some(ObjectType::Blob))
        .map(|e| e.id())
}

/// (rule id, secret) pairs the scanner finds in HEAD's blob `id`.
/// An unreadable or too large HEAD blob knows no secrets (every finding is then new).
fn secrets_in(
    objs: Objects<'_>,
    scanner: &Scanner,
    content: &ScanOptions,
    id: Oid,
    path: &str,
    opts: &StagedOptions,
) -> HashSet<(String, String)> {
    let size = match objs.blob_size(id) {
        Ok(s) if opts.max_blob_size.is_none_or(|max| s <= max) => s,
        _ => return HashSet::new(),
    };
    scan_object(objs, scanner, content, id, size, path)
        .found
        .findings
        .into_iter()
        .map(|f| (f.rule_id, f.secret.expose().to_owned()))
        .collect()
}

/// Every blob id in `tree`; only needed when a new path has findings (rare).
fn all_blobs(objs: Objects<'_>, tree: &Tree<'_>) -> HashSet<Oid> {
    let mut out = HashSet::new();
    let mut stack = vec![tree.clone()];
    while let Some(t) = stack.pop() {
        for e in t.iter() {
            match e.kind() {
                Some(ObjectType::Blob) => {
                    out.insert(e.id());
                }
                Some(ObjectType::Tree) => {
                    if let Ok(sub) = objs.tree(e.id()) {
                        stack.push(sub);
                    }
                }
                _ => {}
            }
        }
    }
    out
}
