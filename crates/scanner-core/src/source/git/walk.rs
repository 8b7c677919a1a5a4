//! Which commits to look at, and which (path, blob) pairs each of them introduced.

use std::collections::HashSet;

use git2::{ObjectType, Oid, Repository, Sort, Tree};

use super::{Error, Result, Selection};
use crate::source::Events;

/// A (path, blob) pair a commit's tree holds that none of its parents' trees holds.
pub(crate) struct Added {
    /// `/`-separated path at that commit.
    pub path: String,
    /// The blob.
    pub blob: Oid,
}

/// The commits the selection names, parents before children (reverse topological order),
/// so the first introduction seen of anything is also the oldest.
pub(crate) fn list_commits(
    repo: &Repository,
    sel: &Selection,
    events: &dyn Events,
) -> Result<Vec<Oid>> {
    let mut walk = repo.revwalk().map_err(Error::Walk)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE)
        .map_err(Error::Walk)?;
    match sel {
        Selection::AllRefs => {
            let mut pushed = 0usize;
            for tip in all_tips(repo, events) {
                match walk.push(tip) {
                    Ok(()) => pushed += 1,
                    Err(e) => events.error(&tip.to_string(), "missing-object", e.message()),
                }
            }
            if pushed == 0 {
                events.error(".", "empty-repository", "no commits reachable from any ref");
                return Ok(Vec::new());
            }
        }
        Selection::Refs(refs) => {
            for name in refs {
                let commit = repo
                    .revparse_single(name)
                    .and_then(|o| o.peel_to_commit())
                    .map_err(|source| Error::Revision {
                        spec: name.clone(),
                        source,
                    })?;
                walk.push(commit.id()).map_err(Error::Walk)?;
            }
        }
        Selection::Range(spec) => push_range(repo, &mut walk, spec)?,
    }
    let mut out = Vec::new();
    for next in walk {
        match next {
            Ok(id) => out.push(id),
            // libgit2 stops at the first unreadable commit; keep what came before it.
            Err(e) => {
                events.error(
                    ".",
                    "missing-object",
                    &format!("walking history: {}", e.message()),
                );
                break;
            }
        }
    }
    Ok(out)
}

/// `BASE..HEAD`: commits reachable from HEAD and not from BASE. A bare `C` means `C..HEAD`.
fn push_range(repo: &Repository, walk: &mut git2::Revwalk<'_>, spec: &str) -> Result<()> {
    let err = |source| Error::Revision {
        spec: spec.to_owned(),
        source,
    };
    let (base, head) = match spec.split_once("..") {
        Some((b, h)) if !h.starts_with('.') => (b, if h.is_empty() { "HEAD" } else { h }),
        Some(_) => return Err(Error::NotARange(spec.to_owned())),
        None => (spec, "HEAD"),
    };
    let base = if base.is_empty() { "HEAD" } else { base };
    let head = repo
        .revparse_single(head)
        .and_then(|o| o.peel_to_commit())
        .map_err(err)?;
    let base = repo
        .revparse_single(base)
        .and_then(|o| o.peel_to_commit())
        .map_err(err)?;
    walk.push(head.id()).map_err(Error::Walk)?;
    walk.hide(base.id()).map_err(Error::Walk)?;
    Ok(())
}

/// Every commit a ref (branch, tag, remote-tracking ref, stash, detached HEAD) points at.
fn all_tips(repo: &Repository, events: &dyn Events) -> Vec<Oid> {
    let mut tips = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |id: Oid| {
        if seen.insert(id) {
            tips.push(id);
        }
    };
    if let Ok(refs) = repo.references() {
        for r in refs.flatten() {
            let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
            match r.peel(ObjectType::Any) {
                Ok(obj) if obj.kind() == Some(ObjectType::Commit) => add(obj.id()),
                // Tags of trees or blobs carry no history; nothing to attribute.
                Ok(_) => {}
                Err(e) => events.error(&name, "missing-object", e.message()),
            }
        }
    }
    if let Ok(head) = repo.head() {
        if let Ok(c) = head.peel_to_commit() {
            add(c.id());
        }
    }
    tips
}

/// What `id` introduced: every (path, blob) in its tree that no parent has at that path.
/// A parent that cannot be read (shallow boundary, partial mirror) counts as absent, so
/// the commit is treated like a root and nothing it holds goes unscanned.
pub(crate) fn introduced(
    repo: &Repository,
    id: Oid,
    warn: &mut dyn FnMut(String, &str, String),
) -> std::result::Result<Vec<Added>, git2::Error> {
    let commit = repo.find_commit(id)?;
    let tree = commit.tree()?;
    let mut parents = Vec::new();
    for pid in commit.parent_ids() {
        match repo.find_commit(pid).and_then(|p| p.tree()) {
            Ok(t) => parents.push(t),
            Err(e) => warn(
                super::label(Some(id), ""),
                "missing-object",
                format!("parent {pid}: {}; scanning the whole tree", e.message()),
            ),
        }
    }
    let mut out = Vec::new();
    let mut prefix = Vec::new();
    let first = parents.first();
    added(repo, &tree, first, &mut prefix, &mut out, &mut |p, e| {
        warn(super::label(Some(id), &p), "missing-object", e)
    });
    // A merge introduces only what differs from *every* parent.
    for other in parents.iter().skip(1) {
        out.retain(|a| {
            other
                .get_path(std::path::Path::new(&a.path))
                .map_or(true, |e| e.id() != a.blob)
        });
    }
    Ok(out)
}

/// Blobs in `new` (under `prefix`) that `old` does not have at the same path. Subtrees with
/// the same id are skipped whole, so the cost follows the size of the change, not the tree.
fn added(
    repo: &Repository,
    new: &Tree<'_>,
    old: Option<&Tree<'_>>,
    prefix: &mut Vec<u8>,
    out: &mut Vec<Added>,
    warn: &mut dyn FnMut(String, String),
) {
    for e in new.iter() {
        let name = e.name_bytes();
        let old_e = old.and_then(|o| o.get_name_bytes(name));
        if old_e.as_ref().is_some_and(|o| o.id() == e.id()) {
            continue;
        }
        let len = prefix.len();
        if !prefix.is_empty() {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(name);
        match e.kind() {
            Some(ObjectType::Blob) => out.push(Added {
                path: String::from_utf8_lossy(prefix).into_owned(),
                blob: e.id(),
            }),
            Some(ObjectType::Tree) => match repo.find_tree(e.id()) {
                Ok(sub) => {
                    let old_sub = old_e
                        .filter(|o| o.kind() == Some(ObjectType::Tree))
                        .and_then(|o| repo.find_tree(o.id()).ok());
                    added(repo, &sub, old_sub.as_ref(), prefix, out, warn);
                }
                Err(err) => warn(
                    String::from_utf8_lossy(prefix).into_owned(),
                    format!("tree {}: {}", e.id(), err.message()),
                ),
            },
            // Submodule commits (gitlinks) live in another repository.
            _ => {}
        }
        prefix.truncate(len);
    }
}
