//! Trees and commits as raw bytes, parsed here: the history walk takes commits from the
//! store a pack pass filled ([`TreeStore`]), trees from the packs one by one ([`Lookup`]),
//! and falls back to libgit2's object database (through the loose-object guard) for
//! anything the packs do not hold.
//!
//! Why trees are not stored like commits: git/git's 382k trees are 5.8 GB built, and read
//! one by one through a per-thread cache the walk on prometheus was as fast as from a
//! store of all its trees (0.29–0.36 s against 0.27–0.34 s, three runs each).

use std::collections::{HashMap, HashSet};
use std::ops::Deref;
use std::path::Path;
use std::sync::{Arc, Mutex};

use git2::{ErrorClass, ErrorCode, ObjectType, Oid};

use super::lookup::Lookup;
use super::objects::Objects;
use super::pack::{PackForest, OBJ_COMMIT, OBJ_TAG, OBJ_TREE};

/// What the walk reads commits and trees from.
pub(crate) struct TreeStore<'f> {
    /// Every commit of the packs, parsed (what the walk needs of one, about 70 bytes).
    commits: HashMap<Oid, CommitMeta>,
    /// Trees, one by one from the packs.
    lookup: Lookup<'f>,
    /// A shallow clone's boundary commits (`.git/shallow`): their parents are not in the
    /// repository, and (as libgit2 and git do) they are read as having none.
    shallow: HashSet<Oid>,
}

impl<'f> TreeStore<'f> {
    /// Every commit of `packs`, built in delta order on the current rayon pool, trees from
    /// `packs` on demand, and the shallow boundary of the repository at `git_dir`.
    pub(crate) fn fill(packs: &'f [PackForest], git_dir: &Path) -> TreeStore<'f> {
        let commits = Mutex::new(HashMap::new());
        for p in packs {
            p.traverse(OBJ_COMMIT, &|_| true, &|e, data| {
                // A malformed commit is left to libgit2's read, which reports it.
                if let Some(meta) = parse_commit(data) {
                    let mut c = commits.lock().unwrap_or_else(|e| e.into_inner());
                    c.insert(p.id(e), meta);
                }
                true
            });
        }
        let shallow = std::fs::read_to_string(git_dir.join("shallow"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| Oid::from_str(l.trim()).ok())
            .collect();
        TreeStore {
            commits: commits.into_inner().unwrap_or_else(|e| e.into_inner()),
            lookup: Lookup::new(packs),
            shallow,
        }
    }
}

impl TreeStore<'_> {
    /// Commit `id` from the packs, unless it is a shallow boundary (whose parents are
    /// dropped by [`commit_meta`]).
    pub(crate) fn commit(&self, id: Oid) -> Option<&CommitMeta> {
        self.commits
            .get(&id)
            .filter(|_| !self.shallow.contains(&id))
    }

    /// The commit that `id` (a commit, or a chain of annotated tags) names, from the
    /// packs: `Some(None)` for a tag of a tree or blob, `None` when the packs cannot tell
    /// (the caller asks libgit2).
    pub(crate) fn peel(&self, mut id: Oid) -> Option<Option<Oid>> {
        for _ in 0..16 {
            if self.commits.contains_key(&id) {
                return Some(Some(id));
            }
            let tag = self.lookup.get(id, OBJ_TAG)?;
            // `object HEX\ntype KIND\n...`
            let mut lines = tag.split(|&b| b == b'\n');
            let target = lines.next()?.strip_prefix(b"object ")?;
            let target = Oid::from_str(std::str::from_utf8(target).ok()?).ok()?;
            match lines.next()?.strip_prefix(b"type ")? {
                b"commit" | b"tag" => id = target,
                _ => return Some(None),
            }
        }
        None
    }
}

/// An object's raw bytes: from the packs (shared with the lookup's cache), or read
/// through libgit2.
pub(crate) enum Raw {
    /// Held by the lookup cache too.
    Shared(Arc<[u8]>),
    /// Read through libgit2.
    Owned(Vec<u8>),
}

impl Deref for Raw {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Raw::Shared(d) => d,
            Raw::Owned(d) => d,
        }
    }
}

fn corrupt(msg: String) -> git2::Error {
    git2::Error::new(ErrorCode::GenericError, ErrorClass::Object, msg)
}

/// Raw content of object `id`, which must be of type `kind`, from libgit2's object
/// database (after the loose-object check).
fn read(objs: Objects<'_>, id: Oid, kind: ObjectType) -> Result<Vec<u8>, git2::Error> {
    objs.loose.check(id)?;
    let odb = objs.repo.odb()?;
    let obj = odb.read(id)?;
    if obj.kind() != kind {
        return Err(git2::Error::new(
            ErrorCode::NotFound,
            ErrorClass::Object,
            format!("object {id} is a {}, not a {kind}", obj.kind()),
        ));
    }
    Ok(obj.data().to_vec())
}

/// What the walk needs of a commit.
#[derive(Clone)]
pub(crate) struct CommitMeta {
    /// Its tree.
    pub tree: Oid,
    /// Its parents, in order.
    pub parents: Vec<Oid>,
    /// Committer time, seconds since the epoch (what libgit2's `Commit::time` gives).
    pub time: i64,
}

/// The tree, parents and committer time of commit `id`.
pub(crate) fn commit_meta(
    objs: Objects<'_>,
    store: &TreeStore<'_>,
    id: Oid,
) -> Result<CommitMeta, git2::Error> {
    let mut meta = match store.commits.get(&id) {
        Some(m) => m.clone(),
        None => parse_commit(&read(objs, id, ObjectType::Commit)?)
            .ok_or_else(|| corrupt(format!("commit {id} is malformed")))?,
    };
    if store.shallow.contains(&id) {
        meta.parents.clear();
    }
    Ok(meta)
}

fn hex_id(line: &[u8], key: &[u8]) -> Option<Oid> {
    let hex = line.strip_prefix(key)?;
    if hex.len() != 40 {
        return None;
    }
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

/// A commit's header: `tree`, then `parent` lines, then (among others) `committer`.
fn parse_commit(data: &[u8]) -> Option<CommitMeta> {
    let mut lines = data.split(|&b| b == b'\n').peekable();
    let tree = hex_id(lines.next()?, b"tree ")?;
    // Parents follow the tree line directly (libgit2 reads them only there).
    let mut parents = Vec::new();
    while let Some(p) = lines.peek().and_then(|l| hex_id(l, b"parent ")) {
        parents.push(p);
        lines.next();
    }
    let mut time = None;
    for line in lines {
        if line.is_empty() {
            break;
        }
        if let Some(sig) = line.strip_prefix(b"committer ") {
            // `Name <email> SECONDS ZONE`: the time follows the last `>`; like libgit2,
            // an unreadable time is 0, not a broken commit.
            let at = sig.iter().rposition(|&b| b == b'>')?;
            let secs = std::str::from_utf8(&sig[at + 1..])
                .ok()
                .and_then(|r| r.split_ascii_whitespace().next())
                .and_then(|s| s.parse().ok());
            time = Some(secs.unwrap_or(0));
            break;
        }
    }
    Some(CommitMeta {
        tree,
        parents,
        time: time?,
    })
}

/// One entry of a tree.
#[derive(Clone, Copy)]
pub(crate) struct Entry<'t> {
    /// File name (one path component).
    pub name: &'t [u8],
    /// Blob, tree or commit (a gitlink), by mode as libgit2 decides it.
    pub kind: ObjectType,
    /// The object's 20-byte id, as stored (compared as bytes: the diff compares millions).
    pub id: &'t [u8; 20],
}

impl<'t> Entry<'t> {
    /// The entry at the start of `raw` (`MODE NAME\0` + 20-byte id) and its length in
    /// bytes, or `None` if it is malformed.
    pub(crate) fn first(raw: &'t [u8]) -> Option<(Entry<'t>, usize)> {
        let sp = raw.iter().take(8).position(|&b| b == b' ')?;
        let mut mode = 0u32;
        for &b in &raw[..sp] {
            if !(b'0'..=b'7').contains(&b) {
                return None;
            }
            mode = mode * 8 + u32::from(b - b'0');
        }
        if sp == 0 || mode == 0 {
            return None;
        }
        let nul = sp + 1 + memchr::memchr(0, &raw[sp + 1..])?;
        let name = &raw[sp + 1..nul];
        let id: &[u8; 20] = raw.get(nul + 1..nul + 21)?.try_into().ok()?;
        if name.is_empty() {
            return None;
        }
        let kind = match mode & 0o170_000 {
            0o160_000 => ObjectType::Commit,
            0o040_000 => ObjectType::Tree,
            _ => ObjectType::Blob,
        };
        Some((Entry { name, kind, id }, nul + 21))
    }

    /// The object's id.
    pub(crate) fn oid(&self) -> Oid {
        Oid::from_bytes(self.id).unwrap_or_else(|_| Oid::zero())
    }

    /// Git's tree order: names as bytes, a tree's name as if it ended in `/`. Two entries
    /// compare equal only with the same name and both trees or both not.
    pub(crate) fn git_cmp(&self, other: &Entry<'_>) -> std::cmp::Ordering {
        let (a, b) = (self.name, other.name);
        let n = a.len().min(b.len());
        a[..n].cmp(&b[..n]).then_with(|| {
            let end = |name: &[u8], kind| {
                name.get(n)
                    .copied()
                    .unwrap_or(if kind == ObjectType::Tree { b'/' } else { 0 })
            };
            end(a, self.kind).cmp(&end(b, other.kind))
        })
    }
}

/// A parsed tree: its entries in git's tree order.
pub(crate) struct Tree<'t> {
    entries: Vec<Entry<'t>>,
}

impl<'t> Tree<'t> {
    /// Parses `data` (`MODE NAME\0` + 20-byte id, repeated). Git writes entries sorted; a
    /// tree that is not (a hostile or broken writer) is sorted here, so the diff's merge of
    /// sorted lists never skips an entry.
    pub(crate) fn parse(data: &'t [u8]) -> Option<Tree<'t>> {
        let mut entries: Vec<Entry<'t>> = Vec::new();
        let mut rest = data;
        let mut sorted = true;
        while !rest.is_empty() {
            let (e, len) = Entry::first(rest)?;
            if let Some(last) = entries.last() {
                sorted &= e.git_cmp(last) == std::cmp::Ordering::Greater;
            }
            entries.push(e);
            rest = &rest[len..];
        }
        if !sorted {
            entries.sort_by(|a, b| a.git_cmp(b));
        }
        Some(Tree { entries })
    }

    /// The entries in git's tree order.
    pub(crate) fn entries(&self) -> &[Entry<'t>] {
        &self.entries
    }
}

/// Raw bytes of tree `id`, ready for [`Tree::parse`].
pub(crate) fn tree_data(
    objs: Objects<'_>,
    store: &TreeStore<'_>,
    id: Oid,
) -> Result<Raw, git2::Error> {
    if let Some(d) = store.lookup.get(id, OBJ_TREE) {
        return Ok(Raw::Shared(d));
    }
    read(objs, id, ObjectType::Tree).map(Raw::Owned)
}

/// Parses tree `id`'s bytes, or says it is malformed.
pub(crate) fn parse_tree(id: Oid, data: &[u8]) -> Result<Tree<'_>, git2::Error> {
    Tree::parse(data).ok_or_else(|| corrupt(format!("tree {id} is malformed")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_parse_and_look_up_like_git() {
        let id = [7u8; 20];
        let mut data = Vec::new();
        for (mode, name) in [
            ("100644", "foo.c"),
            ("40000", "foo"),
            ("160000", "sub"),
            ("120000", "link"),
        ] {
            data.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            data.extend_from_slice(&id);
        }
        let t = Tree::parse(&data).unwrap();
        // Stored out of git's order (`sub` before `link`), so put in order: `foo.c` sorts
        // before the tree `foo` (as `foo/`), a gitlink sorts as a plain name.
        let got: Vec<_> = t.entries().iter().map(|e| (e.name, e.kind)).collect();
        assert_eq!(
            got,
            [
                (&b"foo.c"[..], ObjectType::Blob),
                (b"foo", ObjectType::Tree),
                (b"link", ObjectType::Blob),
                (b"sub", ObjectType::Commit),
            ]
        );
        assert_eq!(t.entries()[3].oid(), Oid::from_bytes(&id).unwrap());
        // A blob and a tree of one name are different entries.
        let (blob, tree) = (
            Entry {
                name: b"a",
                kind: ObjectType::Blob,
                id: &id,
            },
            Entry {
                name: b"a",
                kind: ObjectType::Tree,
                id: &id,
            },
        );
        assert_eq!(blob.git_cmp(&tree), std::cmp::Ordering::Less);
        assert_eq!(tree.git_cmp(&tree), std::cmp::Ordering::Equal);
        // Truncated, mode 0, a non-octal mode, an empty name: all malformed.
        assert!(Tree::parse(&data[..data.len() - 1]).is_none());
        for bad in [&b"0 a\0"[..], b"1008 a\0", b"100644 \0"] {
            let mut d = bad.to_vec();
            d.extend_from_slice(&id);
            assert!(Tree::parse(&d).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn commit_headers() {
        let t = "a".repeat(40);
        let p = "b".repeat(40);
        let c = format!(
            "tree {t}\nparent {p}\nparent {t}\nauthor A <a@x> 1 +0000\ncommitter C <c> d> \
             1700000000 -0130\n\nparent {p}\n"
        );
        let m = parse_commit(c.as_bytes()).unwrap();
        assert_eq!(m.tree, Oid::from_str(&t).unwrap());
        assert_eq!(m.parents.len(), 2);
        assert_eq!(m.time, 1_700_000_000);
        assert!(parse_commit(format!("tree {t}\n").as_bytes()).is_none());
        assert!(parse_commit(b"parent x\n").is_none());
    }
}
