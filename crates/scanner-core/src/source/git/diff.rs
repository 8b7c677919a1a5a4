//! What a commit introduced: its tree against all its parents' trees at once, entry lists
//! merged in git's tree order, subtrees equal to any parent's skipped whole.

use git2::{ObjectType, Oid};

use super::objects::Objects;
use super::raw::{commit_meta, parse_tree, tree_data, Entry, Tree, TreeStore};
use crate::problem::Problem;

/// A (path, blob) pair a commit's tree holds that none of its parents' trees holds.
pub(crate) struct Added {
    /// `/`-separated path at that commit.
    pub path: String,
    /// The blob.
    pub blob: Oid,
}

/// Where problems go: (label, kind, message).
type Warn<'w> = dyn FnMut(String, Problem, String) + 'w;

/// What `id` introduced: every (path, blob) in its tree that no parent has at that path.
/// A parent that cannot be read (shallow boundary, partial mirror) counts as absent, so
/// the commit is treated like a root and nothing it holds goes unscanned.
pub(crate) fn introduced(
    objs: Objects<'_>,
    store: &TreeStore,
    id: Oid,
    warn: &mut Warn<'_>,
) -> std::result::Result<Vec<Added>, git2::Error> {
    let commit = commit_meta(objs, store, id)?;
    let tree_id = commit.tree;
    let data = tree_data(objs, store, tree_id)?;
    let mut parent_data = Vec::new();
    for &pid in &commit.parents {
        match commit_meta(objs, store, pid)
            .and_then(|c| Ok((c.tree, tree_data(objs, store, c.tree)?)))
        {
            Ok(t) => parent_data.push(t),
            Err(e) => warn(
                super::label(Some(id), ""),
                super::error_kind(&e),
                format!("parent {pid}: {}; scanning the whole tree", e.message()),
            ),
        }
    }
    let olds: Vec<&[u8]> = parent_data.iter().map(|(_, d)| &d[..]).collect();
    let mut out = Vec::new();
    let differ = Differ { objs, store };
    let mut warn_at = |p: String, kind, e| warn(super::label(Some(id), &p), kind, e);
    match differ.added(&data, &olds, &mut Vec::new(), &mut out, &mut warn_at) {
        Ok(malformed) => {
            for i in malformed {
                let pid = parent_data[i].0;
                let e = parse_tree(pid, olds[i]).err();
                warn(
                    super::label(Some(id), ""),
                    e.as_ref().map_or(Problem::CorruptObject, super::error_kind),
                    format!(
                        "parent tree {pid}: {}; scanning the whole tree",
                        e.as_ref().map_or("malformed", |e| e.message())
                    ),
                );
            }
            Ok(out)
        }
        Err(()) => Err(parse_tree(tree_id, &data)
            .err()
            .unwrap_or_else(|| git2::Error::from_str("malformed tree"))),
    }
}

/// Tree reads for the diff of one commit.
struct Differ<'a, 'r> {
    objs: Objects<'r>,
    store: &'a TreeStore<'a>,
}

impl Differ<'_, '_> {
    /// Blobs in tree `new` (raw, under `prefix`) that differ from every tree of `olds` at
    /// the same path (the trees the parents have there; a parent without one has nothing
    /// there). A subtree equal to any parent's holds nothing new and is skipped whole, so
    /// the cost follows the size of the change, not of the tree. Says which of `olds` are
    /// malformed (they count as absent), or `Err` if `new` is.
    fn added(
        &self,
        new: &[u8],
        olds: &[&[u8]],
        prefix: &mut Vec<u8>,
        out: &mut Vec<Added>,
        warn: &mut Warn<'_>,
    ) -> Result<Vec<usize>, ()> {
        // Most trees are well formed: merge them as they are. Only when one is not is the
        // work redone on parsed (and sorted) entry lists, so nothing is said twice.
        let mark = out.len();
        let mut held = Vec::new();
        let fast = self.merge_raw(new, olds, prefix, out, &mut |p, k, m| held.push((p, k, m)));
        if fast.is_some() {
            for (p, k, m) in held {
                warn(p, k, m);
            }
            return Ok(Vec::new());
        }
        out.truncate(mark);
        let new = Tree::parse(new).ok_or(())?;
        let mut malformed = Vec::new();
        let mut parsed = Vec::new();
        for (i, o) in olds.iter().enumerate() {
            match Tree::parse(o) {
                Some(t) => parsed.push(t),
                None => malformed.push(i),
            }
        }
        self.merge_parsed(&new, &parsed, prefix, out, warn);
        Ok(malformed)
    }

    /// [`Self::added`] on raw trees, or `None` when one of them is malformed. An entry
    /// that is the next one of the first parent's tree byte for byte (mode, name, id: most
    /// of them) costs one comparison; the others are merged in git's tree order, the other
    /// parents' trees parsed only if one is needed. Merging never drops an entry that
    /// differs from every parent even if a tree is out of order (a match needs the same
    /// name and id); out of order trees can only cost extra introductions.
    fn merge_raw(
        &self,
        new: &[u8],
        olds: &[&[u8]],
        prefix: &mut Vec<u8>,
        out: &mut Vec<Added>,
        warn: &mut Warn<'_>,
    ) -> Option<()> {
        let first: &[u8] = olds.first().copied().unwrap_or_default();
        let mut o0 = 0usize;
        let mut others: Vec<Option<Tree<'_>>> = (1..olds.len()).map(|_| None).collect();
        let mut at = vec![0usize; others.len()];
        let mut old_subs: Vec<&[u8; 20]> = Vec::with_capacity(olds.len());
        let mut pn = 0usize;
        'entries: while pn < new.len() {
            let rest = &new[pn..];
            if let Some(nul) = memchr::memchr(0, rest) {
                let len = nul + 21;
                if len <= rest.len() && first.get(o0..o0 + len) == Some(&rest[..len]) {
                    pn += len;
                    o0 += len;
                    continue;
                }
            }
            let (e, len) = Entry::first(rest)?;
            pn += len;
            old_subs.clear();
            while o0 < first.len() {
                let (o, olen) = Entry::first(&first[o0..])?;
                match o.git_cmp(&e) {
                    std::cmp::Ordering::Less => o0 += olen,
                    std::cmp::Ordering::Equal if o.id == e.id => {
                        o0 += olen;
                        continue 'entries;
                    }
                    std::cmp::Ordering::Equal => {
                        if o.kind == ObjectType::Tree {
                            old_subs.push(o.id);
                        }
                        break;
                    }
                    std::cmp::Ordering::Greater => break,
                }
            }
            for (k, i) in at.iter_mut().enumerate() {
                if others[k].is_none() {
                    others[k] = Some(Tree::parse(olds[k + 1])?);
                }
                let list = others[k].as_ref()?.entries();
                match seek(list, i, &e) {
                    Some(o) if o.id == e.id => continue 'entries,
                    Some(o) if o.kind == ObjectType::Tree => old_subs.push(o.id),
                    _ => {}
                }
            }
            self.entry(&e, &old_subs, prefix, out, warn);
        }
        Some(())
    }

    /// [`Self::added`] on parsed trees, in git's order.
    fn merge_parsed(
        &self,
        new: &Tree<'_>,
        olds: &[Tree<'_>],
        prefix: &mut Vec<u8>,
        out: &mut Vec<Added>,
        warn: &mut Warn<'_>,
    ) {
        // One cursor per parent tree: all lists are in git's order, so each only moves on.
        let mut at = vec![0usize; olds.len()];
        let mut old_subs: Vec<&[u8; 20]> = Vec::with_capacity(olds.len());
        'entries: for e in new.entries() {
            old_subs.clear();
            for (old, i) in olds.iter().zip(at.iter_mut()) {
                match seek(old.entries(), i, e) {
                    Some(o) if o.id == e.id => continue 'entries,
                    Some(o) if o.kind == ObjectType::Tree => old_subs.push(o.id),
                    _ => {}
                }
            }
            self.entry(e, &old_subs, prefix, out, warn);
        }
    }

    /// Entry `e` of a tree under `prefix`, which no parent has: a blob is introduced, a
    /// tree is diffed against the parents' trees `old_subs` at its path.
    fn entry(
        &self,
        e: &Entry<'_>,
        old_subs: &[&[u8; 20]],
        prefix: &mut Vec<u8>,
        out: &mut Vec<Added>,
        warn: &mut Warn<'_>,
    ) {
        let len = prefix.len();
        if !prefix.is_empty() {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(e.name);
        match e.kind {
            ObjectType::Blob => out.push(Added {
                path: String::from_utf8_lossy(prefix).into_owned(),
                blob: e.oid(),
            }),
            ObjectType::Tree => self.subtree(e.oid(), old_subs, prefix, out, warn),
            // A gitlink: the submodule's commits live in another repository, so its
            // files are not in this history. Said once per path (see scan_history).
            _ => warn(
                String::from_utf8_lossy(prefix).into_owned(),
                Problem::Submodule,
                format!(
                    "submodule (commit {}) not scanned: its history is another \
                     repository; run leakscan git in its clone",
                    e.oid()
                ),
            ),
        }
        prefix.truncate(len);
    }

    /// [`Self::added`] for subtree `id` against the parents' trees `old_ids` at its path.
    /// A parent's tree that cannot be read counts as absent: more is scanned, never less.
    fn subtree(
        &self,
        id: Oid,
        old_ids: &[&[u8; 20]],
        prefix: &mut Vec<u8>,
        out: &mut Vec<Added>,
        warn: &mut Warn<'_>,
    ) {
        let data = match tree_data(self.objs, self.store, id) {
            Ok(d) => d,
            Err(err) => {
                return warn(
                    String::from_utf8_lossy(prefix).into_owned(),
                    super::error_kind(&err),
                    format!("tree {id}: {}", err.message()),
                )
            }
        };
        let old_data: Vec<_> = old_ids
            .iter()
            .filter_map(|o| {
                let oid = Oid::from_bytes(&o[..]).ok()?;
                tree_data(self.objs, self.store, oid).ok()
            })
            .collect();
        let olds: Vec<&[u8]> = old_data.iter().map(|d| &d[..]).collect();
        if self.added(&data, &olds, prefix, out, warn).is_err() {
            if let Err(err) = parse_tree(id, &data) {
                warn(
                    String::from_utf8_lossy(prefix).into_owned(),
                    super::error_kind(&err),
                    format!("tree {id}: {}", err.message()),
                );
            }
        }
    }
}

/// Moves cursor `i` of the sorted `list` up to entry `e`'s place; the entry there if it
/// has `e`'s name and tree-ness.
fn seek<'t>(list: &[Entry<'t>], i: &mut usize, e: &Entry<'_>) -> Option<Entry<'t>> {
    while *i < list.len() && list[*i].git_cmp(e).is_lt() {
        *i += 1;
    }
    list.get(*i).copied().filter(|o| o.git_cmp(e).is_eq())
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
