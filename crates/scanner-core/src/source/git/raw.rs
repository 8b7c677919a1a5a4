//! Trees and commits as raw bytes, parsed here: the history walk reads them from the
//! store a pack pass filled ([`TreeStore`]) and falls back to libgit2's object database
//! (through the loose-object guard) for anything the store lacks.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use git2::{ErrorClass, ErrorCode, ObjectType, Oid};

use super::objects::Objects;
use super::pack::{PackForest, OBJ_COMMIT, OBJ_TREE};

/// Raw bytes of trees and commits that one store may hold (beyond it, the walk reads the
/// rest through libgit2).
const STORE_BUDGET: usize = 256 << 20;

/// Trees and commits built from the packs in one pass, by id.
#[derive(Default)]
pub(crate) struct TreeStore {
    objects: HashMap<Oid, Box<[u8]>>,
    /// A shallow clone's boundary commits (`.git/shallow`): their parents are not in the
    /// repository, and (as libgit2 and git do) they are read as having none.
    shallow: HashSet<Oid>,
}

impl TreeStore {
    /// Every tree and commit of `packs`, built in delta order on the current rayon pool,
    /// up to [`STORE_BUDGET`] bytes, and the shallow boundary of the repository whose git
    /// directory is `git_dir`.
    pub(crate) fn fill(packs: &[PackForest], git_dir: &Path) -> TreeStore {
        let got = Mutex::new((HashMap::new(), 0usize));
        for p in packs {
            for kind in [OBJ_COMMIT, OBJ_TREE] {
                p.traverse(kind, &|_| true, &|e, data| {
                    let mut g = got.lock().unwrap_or_else(|e| e.into_inner());
                    if g.1 + data.len() <= STORE_BUDGET {
                        g.1 += data.len();
                        g.0.insert(p.id(e), data.into());
                    }
                });
            }
        }
        let (objects, _) = got.into_inner().unwrap_or_else(|e| e.into_inner());
        let shallow = std::fs::read_to_string(git_dir.join("shallow"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| Oid::from_str(l.trim()).ok())
            .collect();
        TreeStore { objects, shallow }
    }

    fn get(&self, id: Oid) -> Option<&[u8]> {
        self.objects.get(&id).map(|b| &b[..])
    }
}

fn corrupt(msg: String) -> git2::Error {
    git2::Error::new(ErrorCode::GenericError, ErrorClass::Object, msg)
}

/// Raw content of object `id`, which must be of type `kind`: from the store, else from
/// libgit2's object database (after the loose-object check).
fn raw<'s>(
    objs: Objects<'_>,
    store: &'s TreeStore,
    id: Oid,
    kind: ObjectType,
) -> Result<Cow<'s, [u8]>, git2::Error> {
    if let Some(data) = store.get(id) {
        return Ok(Cow::Borrowed(data));
    }
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
    Ok(Cow::Owned(obj.data().to_vec()))
}

/// What the walk needs of a commit.
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
    store: &TreeStore,
    id: Oid,
) -> Result<CommitMeta, git2::Error> {
    let data = raw(objs, store, id, ObjectType::Commit)?;
    let mut meta =
        parse_commit(&data).ok_or_else(|| corrupt(format!("commit {id} is malformed")))?;
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
    /// The object.
    pub id: Oid,
}

/// A parsed tree: its entries, and their names in byte order for look-ups.
pub(crate) struct Tree<'t> {
    entries: Vec<Entry<'t>>,
    /// Indexes into `entries`, sorted by name.
    by_name: Vec<u32>,
}

impl<'t> Tree<'t> {
    /// Parses `data` (`MODE NAME\0` + 20-byte id, repeated).
    pub(crate) fn parse(data: &'t [u8]) -> Option<Tree<'t>> {
        let mut entries = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            let sp = rest.iter().position(|&b| b == b' ')?;
            let mut mode = 0u32;
            for &b in &rest[..sp] {
                if !(b'0'..=b'7').contains(&b) || mode > 0o7_777_777 {
                    return None;
                }
                mode = mode * 8 + u32::from(b - b'0');
            }
            if sp == 0 || mode == 0 {
                return None;
            }
            let nul = sp + 1 + rest[sp + 1..].iter().position(|&b| b == 0)?;
            let name = &rest[sp + 1..nul];
            let id = Oid::from_bytes(rest.get(nul + 1..nul + 21)?).ok()?;
            if name.is_empty() {
                return None;
            }
            let kind = match mode & 0o170_000 {
                0o160_000 => ObjectType::Commit,
                0o040_000 => ObjectType::Tree,
                _ => ObjectType::Blob,
            };
            entries.push(Entry { name, kind, id });
            rest = &rest[nul + 21..];
        }
        let mut by_name: Vec<u32> = (0..entries.len() as u32).collect();
        // Git's order sorts a directory as if its name ended in `/`; look-ups want plain
        // byte order, which is nearly the same, so this sort is cheap.
        by_name.sort_by(|&a, &b| entries[a as usize].name.cmp(entries[b as usize].name));
        Some(Tree { entries, by_name })
    }

    /// The entries in stored order.
    pub(crate) fn entries(&self) -> &[Entry<'t>] {
        &self.entries
    }

    /// The entry called `name`.
    pub(crate) fn get(&self, name: &[u8]) -> Option<Entry<'t>> {
        let i = self
            .by_name
            .binary_search_by(|&i| self.entries[i as usize].name.cmp(name))
            .ok()?;
        Some(self.entries[self.by_name[i] as usize])
    }
}

/// Raw bytes of tree `id`, ready for [`Tree::parse`].
pub(crate) fn tree_data<'s>(
    objs: Objects<'_>,
    store: &'s TreeStore,
    id: Oid,
) -> Result<Cow<'s, [u8]>, git2::Error> {
    raw(objs, store, id, ObjectType::Tree)
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
        let kinds: Vec<_> = t.entries().iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                ObjectType::Blob,
                ObjectType::Tree,
                ObjectType::Commit,
                ObjectType::Blob
            ]
        );
        assert_eq!(t.get(b"foo").unwrap().kind, ObjectType::Tree);
        assert_eq!(t.get(b"link").unwrap().id, Oid::from_bytes(&id).unwrap());
        assert!(t.get(b"fo").is_none());
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
