//! Which commits to look at, and which (path, blob) pairs each of them introduced.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use git2::Oid;

use super::objects::Objects;
use super::raw::{commit_meta, CommitMeta, TreeStore};
use super::{Error, Result, Selection};
use crate::problem::Problem;
use crate::source::Events;

/// The commit graph as far as the walk has read it: commits of the packs from the store,
/// others read once through the guarded [`Objects`]; one that cannot be read is reported
/// once and treated as absent (its children are scanned as roots, see
/// [`introduced`](super::diff::introduced)), and the walk goes on past it.
struct Graph<'a, 'r> {
    objs: Objects<'r>,
    store: &'a TreeStore<'a>,
    events: &'a dyn Events,
    /// Commits the store does not hold.
    metas: HashMap<Oid, Option<CommitMeta>>,
}

impl Graph<'_, '_> {
    fn meta(&mut self, id: Oid) -> Option<&CommitMeta> {
        if let Some(m) = self.store.commit(id) {
            return Some(m);
        }
        if !self.metas.contains_key(&id) {
            let m = match commit_meta(self.objs, self.store, id) {
                Ok(c) => Some(c),
                Err(e) => {
                    self.events.error(
                        &super::label(Some(id), ""),
                        super::error_kind(&e),
                        &format!("commit {id}: {}", e.message()),
                    );
                    None
                }
            };
            self.metas.insert(id, m);
        }
        self.metas.get(&id).and_then(Option::as_ref)
    }

    fn parents(&mut self, id: Oid) -> Vec<Oid> {
        self.meta(id).map(|m| m.parents.clone()).unwrap_or_default()
    }

    fn time(&mut self, id: Oid) -> Option<i64> {
        self.meta(id).map(|m| m.time)
    }

    /// Every readable commit reachable from `tips`.
    fn reachable(&mut self, tips: &[Oid]) -> Vec<Oid> {
        let mut seen = HashSet::new();
        let mut stack: Vec<Oid> = tips.to_vec();
        let mut out = Vec::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if self.meta(id).is_some() {
                out.push(id);
                stack.extend(self.parents(id));
            }
        }
        out
    }

    /// Commits reachable from `head` and not from `base`, found the way git does it: newest
    /// first from both ends, painting `base`'s ancestors uninteresting, until only
    /// uninteresting commits are left to visit (plus a few more, for clock skew). The cost
    /// follows the size of the range, not of the history.
    fn range(&mut self, base: Oid, head: Oid) -> Vec<Oid> {
        const UNINTERESTING: u8 = 1;
        const QUEUED: u8 = 2;
        const DONE: u8 = 4;
        /// Commits still visited once only uninteresting ones are queued (git uses 5).
        const SLOP: usize = 5;
        let mut flags: HashMap<Oid, u8> = HashMap::new();
        let mut heap: BinaryHeap<(i64, Reverse<u64>, Oid)> = BinaryHeap::new();
        let mut seq = 0u64;
        let mut interesting_queued = 0usize;
        let mut out = Vec::new();
        for (id, f) in [(head, 0), (base, UNINTERESTING)] {
            if let Some(t) = self.time(id) {
                let e = flags.entry(id).or_default();
                if f == UNINTERESTING && *e & QUEUED != 0 && *e & UNINTERESTING == 0 {
                    interesting_queued -= 1;
                }
                if *e & QUEUED == 0 {
                    heap.push((t, Reverse(seq), id));
                    seq += 1;
                    if f == 0 {
                        interesting_queued += 1;
                    }
                }
                *e |= f | QUEUED;
            }
        }
        let mut slop = SLOP;
        while let Some((_, _, id)) = heap.pop() {
            let f = flags.get(&id).copied().unwrap_or_default();
            flags.insert(id, (f & !QUEUED) | DONE);
            let uninteresting = f & UNINTERESTING != 0;
            if !uninteresting {
                interesting_queued -= 1;
                out.push(id);
            }
            for p in self.parents(id) {
                let Some(t) = self.time(p) else { continue };
                let pf = flags.entry(p).or_default();
                if uninteresting {
                    if *pf & UNINTERESTING != 0 {
                        continue;
                    }
                    if *pf & QUEUED != 0 {
                        interesting_queued -= 1;
                    }
                    *pf |= UNINTERESTING;
                } else if *pf & (QUEUED | DONE) != 0 {
                    continue;
                }
                // An uninteresting mark reaching a commit already visited goes on to its
                // parents too: the commit is queued again.
                if *pf & QUEUED == 0 {
                    *pf |= QUEUED;
                    heap.push((t, Reverse(seq), p));
                    seq += 1;
                    if !uninteresting {
                        interesting_queued += 1;
                    }
                }
            }
            if interesting_queued == 0 {
                if slop == 0 {
                    break;
                }
                slop -= 1;
            } else {
                slop = SLOP;
            }
        }
        out.retain(|id| flags.get(id).is_some_and(|f| f & UNINTERESTING == 0));
        out
    }

    /// `ids` ordered parents before children, older first among commits whose parents are
    /// all listed (Kahn's algorithm; parents outside `ids` do not hold a commit back).
    fn topo_order(&mut self, ids: Vec<Oid>) -> Vec<Oid> {
        let members: HashSet<Oid> = ids.iter().copied().collect();
        let mut waiting: HashMap<Oid, usize> = HashMap::new();
        let mut children: HashMap<Oid, Vec<Oid>> = HashMap::new();
        let mut ready = BinaryHeap::new();
        for &id in &ids {
            let mut parents = self.parents(id);
            parents.sort_unstable();
            parents.dedup();
            let inside: Vec<Oid> = parents
                .into_iter()
                .filter(|p| members.contains(p))
                .collect();
            for &p in &inside {
                children.entry(p).or_default().push(id);
            }
            if inside.is_empty() {
                ready.push(Reverse((self.time(id).unwrap_or(0), id)));
            } else {
                waiting.insert(id, inside.len());
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        while let Some(Reverse((_, id))) = ready.pop() {
            out.push(id);
            for c in children.remove(&id).unwrap_or_default() {
                if let Some(n) = waiting.get_mut(&c) {
                    *n -= 1;
                    if *n == 0 {
                        waiting.remove(&c);
                        ready.push(Reverse((self.time(c).unwrap_or(0), c)));
                    }
                }
            }
        }
        out
    }
}

/// The commits the selection names, parents before children (reverse topological order),
/// so the first introduction seen of anything is also the oldest.
pub(crate) fn list_commits(
    objs: Objects<'_>,
    store: &TreeStore,
    sel: &Selection,
    events: &dyn Events,
) -> Result<Vec<Oid>> {
    let mut graph = Graph {
        objs,
        store,
        events,
        metas: HashMap::new(),
    };
    let ids = match sel {
        Selection::AllRefs => {
            let (tips, unreadable) = all_tips(objs, store, events);
            // Refs whose commits cannot be read were reported one by one (corrupt-object):
            // such a repository is damaged, not empty.
            if tips.is_empty() && unreadable == 0 {
                events.error(
                    ".",
                    Problem::EmptyRepository,
                    "no commits reachable from any ref",
                );
            }
            if tips.is_empty() {
                return Ok(Vec::new());
            }
            graph.reachable(&tips)
        }
        Selection::Refs(refs) => {
            let mut tips = Vec::new();
            for name in refs {
                tips.push(resolve(objs, name).map_err(|source| Error::Revision {
                    spec: name.clone(),
                    source,
                })?);
            }
            graph.reachable(&tips)
        }
        Selection::Range(spec) => {
            let (base, head) = parse_range(spec)?;
            let err = |source| Error::Revision {
                spec: spec.to_owned(),
                source,
            };
            let head = resolve(objs, head).map_err(err)?;
            let base = resolve(objs, base).map_err(err)?;
            let ids = graph.range(base, head);
            if ids.is_empty() && !spec.contains("..") {
                return Err(Error::EmptyBareRange(spec.to_owned()));
            }
            if ids.is_empty() {
                events.error(
                    ".",
                    Problem::EmptyRange,
                    &format!(
                        "--range {spec} selects no commits (BASE..HEAD: commits in HEAD that \
                         BASE lacks; a bare BASE means BASE..HEAD); nothing was scanned"
                    ),
                );
            }
            ids
        }
    };
    Ok(graph.topo_order(ids))
}

/// `BASE..HEAD` as (base, head); a bare `C` means `C..HEAD`, an empty side means `HEAD`.
fn parse_range(spec: &str) -> Result<(&str, &str)> {
    let (base, head) = match spec.split_once("..") {
        Some((b, h)) if !h.starts_with('.') => (b, h),
        Some(_) => return Err(Error::NotARange(spec.to_owned())),
        None => (spec, "HEAD"),
    };
    fn side(s: &str) -> &str {
        if s.is_empty() {
            "HEAD"
        } else {
            s
        }
    }
    Ok((side(base), side(head)))
}

/// The commit a revision names: a ref or (abbreviated) commit id with `~N` / `^N` suffixes,
/// read through the guard. Anything fancier (`@{1}`, `:/text`) is left to libgit2's parser.
fn resolve(objs: Objects<'_>, spec: &str) -> std::result::Result<Oid, git2::Error> {
    let cut = spec.find(['~', '^']).unwrap_or(spec.len());
    let (name, mut ops) = spec.split_at(cut);
    let named = objs
        .repo
        .resolve_reference_from_short_name(name)
        .ok()
        .and_then(|r| r.resolve().ok())
        .and_then(|r| r.target());
    let named = match named {
        Some(id) => Some(id),
        None if name.len() >= 4 && name.bytes().all(|b| b.is_ascii_hexdigit()) => {
            let short = Oid::from_str(name)?;
            objs.repo.odb()?.exists_prefix(short, name.len()).ok()
        }
        None => None,
    };
    let Some(id) = named else {
        let obj = objs.repo.revparse_single(spec)?;
        return objs
            .peel_to_commit(obj.id())?
            .ok_or_else(|| git2::Error::from_str("not a commit"));
    };
    let mut id = objs
        .peel_to_commit(id)?
        .ok_or_else(|| git2::Error::from_str("not a commit"))?;
    while let Some(op) = ops.chars().next() {
        let digits: String = ops[1..].chars().take_while(char::is_ascii_digit).collect();
        ops = &ops[1 + digits.len()..];
        let n: usize = if digits.is_empty() {
            1
        } else {
            digits
                .parse()
                .map_err(|_| git2::Error::from_str("bad revision suffix"))?
        };
        let step = |id: Oid, nth: usize| -> std::result::Result<Oid, git2::Error> {
            objs.commit(id)?
                .parent_ids()
                .nth(nth)
                .ok_or_else(|| git2::Error::from_str("no such parent"))
        };
        match op {
            '~' => {
                for _ in 0..n {
                    id = step(id, 0)?;
                }
            }
            _ if n == 0 => {}
            _ => id = step(id, n - 1)?,
        }
    }
    Ok(id)
}

/// Every commit a ref (branch, tag, remote-tracking ref, stash, detached HEAD) points at,
/// and how many refs point at objects that cannot be read.
fn all_tips(objs: Objects<'_>, store: &TreeStore<'_>, events: &dyn Events) -> (Vec<Oid>, usize) {
    let mut tips = Vec::new();
    let mut seen = HashSet::new();
    let mut unreadable = 0;
    let mut add = |name: &str, target: Option<Oid>| {
        let Some(id) = target else { return };
        // Refs name commits and tags the packs hold: peeled there, libgit2 need not map
        // the pack (on git/git's 1k tags, its reads faulted in 67 MB of it).
        let peeled = match store.peel(id) {
            Some(c) => Ok(c),
            None => objs.peel_to_commit(id),
        };
        match peeled {
            Ok(Some(c)) if seen.insert(c) => tips.push(c),
            // Tags of trees or blobs carry no history; nothing to attribute.
            Ok(_) => {}
            Err(e) => {
                unreadable += 1;
                events.error(name, super::error_kind(&e), e.message());
            }
        }
    };
    if let Ok(refs) = objs.repo.references() {
        for r in refs.flatten() {
            let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
            add(&name, r.resolve().ok().and_then(|r| r.target()));
        }
    }
    if let Ok(head) = objs.repo.head() {
        add("HEAD", head.target());
    }
    (tips, unreadable)
}
