//! Pre-commit scans: what `git commit` would record, judged from the index blobs.
//!
//! Only index entries whose blob differs from HEAD's entry at the same path are read, so
//! the cost follows the size of the change, not of the repository. Findings whose secret
//! is already in HEAD's version of the file (or whose whole blob is already in HEAD, a
//! pure rename or copy) are not reported again.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Tree, TreeWalkMode, TreeWalkResult};

use super::fanout::scan_plain;
use super::{open, Error, Result};
use crate::scanner::Scanner;
use crate::source::Events;

/// What a staged scan did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StagedStats {
    /// Index entries that differ from HEAD and were scanned.
    pub files: u64,
    /// Bytes scanned (staged blobs only).
    pub bytes: u64,
    /// Findings dropped because HEAD already had them.
    pub already_in_head: u64,
}

/// Scans the staged content of the repository at or above `repo_path`: every index entry
/// whose blob differs from HEAD's (all of them before the first commit). Line numbers are
/// those of the staged file.
pub fn scan_staged(
    repo_path: &Path,
    scanner: &Scanner,
    events: &dyn Events,
) -> Result<StagedStats> {
    let repo = open(repo_path)?;
    let index = repo.index().map_err(Error::Index)?;
    // An unborn branch (no commit yet) simply has no HEAD tree: everything is new.
    let head = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let mut stats = StagedStats::default();
    let mut dirs: HashMap<Vec<u8>, Option<Tree<'_>>> = HashMap::new();
    let mut head_blobs: Option<HashSet<Oid>> = None;
    for entry in index.iter() {
        // Stage bits (12-13) set: an unresolved conflict, which cannot be committed.
        if (entry.flags >> 12) & 0x3 != 0 || entry.mode & 0o170000 == 0o160000 {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path).into_owned();
        let head_id = head
            .as_ref()
            .and_then(|h| head_entry(&repo, h, &entry.path, &mut dirs));
        if head_id == Some(entry.id) {
            continue;
        }
        let blob = match repo.find_blob(entry.id) {
            Ok(b) => b,
            Err(e) => {
                events.error(
                    &path,
                    super::error_kind(&e),
                    &format!("staged blob {}: {}", entry.id, e.message()),
                );
                continue;
            }
        };
        let data = blob.content();
        stats.files += 1;
        stats.bytes += data.len() as u64;
        let findings = scan_plain(scanner, data, &path);
        if !findings.is_empty() {
            let known = match (head_id, head.as_ref()) {
                (Some(old), _) => secrets_in(&repo, scanner, old, &path),
                // A new path: a pure rename or copy of a blob HEAD already has adds nothing.
                (None, Some(h)) => {
                    let blobs = head_blobs.get_or_insert_with(|| all_blobs(h));
                    if blobs.contains(&entry.id) {
                        stats.already_in_head += findings.len() as u64;
                        events.scanned(&path, data.len() as u64);
                        continue;
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
        events.scanned(&path, data.len() as u64);
    }
    Ok(stats)
}

/// HEAD's blob id at `path`, resolving each directory's tree once per run.
fn head_entry<'r>(
    repo: &'r Repository,
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
        let tree = head
            .get_path(Path::new(&*String::from_utf8_lossy(dir)))
            .ok()
            .filter(|e| e.kind() == Some(ObjectType::Tree))
            .and_then(|e| repo.find_tree(e.id()).ok());
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
fn secrets_in(
    repo: &Repository,
    scanner: &Scanner,
    id: Oid,
    path: &str,
) -> HashSet<(String, String)> {
    match repo.find_blob(id) {
        Ok(b) => scan_plain(scanner, b.content(), path)
            .into_iter()
            .map(|f| (f.rule_id, f.secret.expose().to_owned()))
            .collect(),
        Err(_) => HashSet::new(),
    }
}

/// Every blob id in `tree`; only needed when a new path has findings (rare).
fn all_blobs(tree: &Tree<'_>) -> HashSet<Oid> {
    let mut out = HashSet::new();
    let _ = tree.walk(TreeWalkMode::PreOrder, |_, e| {
        if e.kind() == Some(ObjectType::Blob) {
            out.insert(e.id());
        }
        TreeWalkResult::Ok
    });
    out
}
