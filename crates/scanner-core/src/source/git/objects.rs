//! Every object a git scan reads goes through [`Objects`], which checks a loose object with
//! leakscan's own inflater before libgit2 may touch it.
//!
//! Why: libgit2 1.9 (the newest that `git2` bundles, 1.9.7) spins forever at 100% CPU
//! inflating a truncated loose object (libgit2#7342, fixed upstream in #7346 after that
//! release), so one damaged file under `.git/objects` would hang every history scan and
//! every pre-commit hook. It also writes out of bounds for a loose object whose header
//! claims a smaller size than its body (libgit2#7177). Both are refused here: a loose
//! object must inflate to a complete zlib stream of exactly the size its header states.
//! Packed objects are read by libgit2 directly (its pack reader bounds every inflate by the
//! size the pack records).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use flate2::{Decompress, FlushDecompress, Status};
use git2::{Blob, Commit, ErrorClass, ErrorCode, ObjectType, Oid, Repository, Tree};

use super::stream::{open_loose, Packs};

/// How many alternates deep `objects/info/alternates` is followed (git's own limit is 5).
const MAX_ALTERNATE_DEPTH: usize = 5;

/// The loose objects of a repository (and its alternates), and what checking them found.
#[derive(Debug, Default)]
pub(crate) struct LooseObjects {
    /// Where each loose object's file is, by id.
    files: HashMap<Oid, PathBuf>,
    /// Verdicts so far: `None` = sound, `Some(reason)` = refused.
    verdicts: Mutex<HashMap<Oid, Option<String>>>,
}

impl LooseObjects {
    /// Lists the loose objects under the object directory of the repository whose git
    /// directory is `git_dir` (honouring `GIT_OBJECT_DIRECTORY`), its alternates
    /// (`objects/info/alternates`, `GIT_ALTERNATE_OBJECT_DIRECTORIES`). Costs one directory
    /// listing per fan-out directory; nothing is read yet.
    pub(crate) fn list(git_dir: &Path) -> LooseObjects {
        let primary = std::env::var_os("GIT_OBJECT_DIRECTORY")
            .map(PathBuf::from)
            .unwrap_or_else(|| git_dir.join("objects"));
        let mut dirs = vec![primary.clone()];
        if let Some(extra) = std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
            dirs.extend(std::env::split_paths(&extra));
        }
        let mut seen = HashSet::new();
        let mut files = HashMap::new();
        let mut queue: Vec<(PathBuf, usize)> = dirs.into_iter().map(|d| (d, 0)).collect();
        while let Some((dir, depth)) = queue.pop() {
            if !seen.insert(dir.clone()) {
                continue;
            }
            list_dir(&dir, &mut files);
            if depth < MAX_ALTERNATE_DEPTH {
                for alt in alternates(&dir) {
                    queue.push((alt, depth + 1));
                }
            }
        }
        LooseObjects {
            files,
            verdicts: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` when `id` is not loose or its loose file is sound; the reason otherwise.
    pub(crate) fn check(&self, id: Oid) -> Result<(), git2::Error> {
        let Some(path) = self.files.get(&id) else {
            return Ok(());
        };
        let known = self.lock().get(&id).cloned();
        let verdict = match known {
            Some(v) => v,
            None => {
                let v = verify(path).err();
                self.lock().insert(id, v.clone());
                v
            }
        };
        match verdict {
            None => Ok(()),
            Some(reason) => Err(git2::Error::new(
                ErrorCode::GenericError,
                ErrorClass::Odb,
                format!("loose object {id} is corrupt ({reason}); not read"),
            )),
        }
    }

    /// The file of loose object `id`, if it is loose.
    pub(crate) fn path(&self, id: Oid) -> Option<&Path> {
        self.files.get(&id).map(PathBuf::as_path)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Oid, Option<String>>> {
        self.verdicts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Adds the loose objects of one object directory (`xx/yyyy…` files) to `files`.
fn list_dir(dir: &Path, files: &mut HashMap<Oid, PathBuf>) {
    let Ok(fanout) = std::fs::read_dir(dir) else {
        return;
    };
    for sub in fanout.flatten() {
        let name = sub.file_name();
        let Some(prefix) = name.to_str().filter(|n| is_hex(n, 2)) else {
            continue;
        };
        let Ok(entries) = std::fs::read_dir(sub.path()) else {
            continue;
        };
        for e in entries.flatten() {
            let rest = e.file_name();
            let Some(rest) = rest.to_str().filter(|r| is_hex(r, 38)) else {
                continue;
            };
            if let Ok(id) = Oid::from_str(&format!("{prefix}{rest}")) {
                files.entry(id).or_insert_with(|| e.path());
            }
        }
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The object directories `dir/info/alternates` names (relative ones are relative to `dir`).
fn alternates(dir: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(dir.join("info").join("alternates")) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| dir.join(l))
        .collect()
}

/// Inflates a loose object file completely: it must be one whole zlib stream whose output
/// is `<type> <size>\0` followed by exactly `size` bytes.
fn verify(path: &Path) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let mut z = Decompress::new(true);
    let mut input = vec![0u8; 64 * 1024];
    let mut out = vec![0u8; 64 * 1024];
    let mut header: Vec<u8> = Vec::new();
    let mut expected: Option<u64> = None;
    let (mut filled, mut pos) = (0usize, 0usize);
    let mut eof = false;
    loop {
        if pos == filled && !eof {
            filled = file.read(&mut input).map_err(|e| e.to_string())?;
            pos = 0;
            eof = filled == 0;
        }
        let (in_before, out_before) = (z.total_in(), z.total_out());
        let status = z
            .decompress(&input[pos..filled], &mut out, FlushDecompress::None)
            .map_err(|e| format!("invalid zlib data: {e}"))?;
        pos += (z.total_in() - in_before) as usize;
        let produced = (z.total_out() - out_before) as usize;
        if expected.is_none() && header.len() < 64 {
            header.extend_from_slice(&out[..produced.min(64)]);
            if let Some(nul) = header.iter().position(|&b| b == 0) {
                let size = parse_header(&header[..nul])?;
                expected = Some(nul as u64 + 1 + size);
            } else if header.len() >= 64 {
                return Err("no object header".into());
            }
        }
        if let Some(total) = expected {
            if z.total_out() > total {
                return Err("longer than its header says".into());
            }
        }
        match status {
            Status::StreamEnd => break,
            _ if produced == 0 && pos == filled && eof => {
                return Err("truncated: the zlib stream ends early".into())
            }
            _ => {}
        }
    }
    match expected {
        Some(total) if total == z.total_out() => Ok(()),
        Some(_) => Err("shorter than its header says".into()),
        None => Err("no object header".into()),
    }
}

/// The size in a loose object header (`blob 123`); the type must be a git object type.
fn parse_header(h: &[u8]) -> Result<u64, String> {
    let text = std::str::from_utf8(h).map_err(|_| "bad object header".to_string())?;
    let (kind, size) = text
        .split_once(' ')
        .ok_or_else(|| "bad object header".to_string())?;
    if !matches!(kind, "blob" | "tree" | "commit" | "tag") {
        return Err(format!("unknown object type {kind:?}"));
    }
    size.parse().map_err(|_| "bad object size".to_string())
}

/// A read error of object `id` as the error libgit2 would give for a corrupt object.
pub(crate) fn io_error(id: Oid, e: &std::io::Error) -> git2::Error {
    git2::Error::new(
        ErrorCode::GenericError,
        ErrorClass::Odb,
        format!("object {id} is corrupt: {e}"),
    )
}

/// Guarded object reads on one repository handle.
#[derive(Clone, Copy)]
pub(crate) struct Objects<'r> {
    pub repo: &'r Repository,
    pub loose: &'r LooseObjects,
    pub packs: &'r Packs,
}

impl<'r> Objects<'r> {
    /// The commit `id`.
    pub(crate) fn commit(&self, id: Oid) -> Result<Commit<'r>, git2::Error> {
        self.loose.check(id)?;
        self.repo.find_commit(id)
    }

    /// The tree `id`.
    pub(crate) fn tree(&self, id: Oid) -> Result<Tree<'r>, git2::Error> {
        self.loose.check(id)?;
        self.repo.find_tree(id)
    }

    /// The blob `id`.
    pub(crate) fn blob(&self, id: Oid) -> Result<Blob<'r>, git2::Error> {
        self.loose.check(id)?;
        self.repo.find_blob(id)
    }

    /// A stream of blob `id`'s content, when it can be read without holding it whole (a
    /// loose blob, or one stored whole in a pack); `Ok(None)` otherwise.
    pub(crate) fn blob_stream(&self, id: Oid) -> Result<Option<Box<dyn Read + 'r>>, git2::Error> {
        // A loose blob is inflated by leakscan's own reader, which stops at the size its
        // header states and fails on a short stream, so it needs no check beforehand.
        if let Some(path) = self.loose.path(id) {
            return match open_loose(path) {
                Ok(r) => Ok(Some(Box::new(r))),
                Err(e) => Err(io_error(id, &e)),
            };
        }
        Ok(self
            .packs
            .open_blob(id)
            .map(|r| Box::new(r) as Box<dyn Read + 'r>))
    }

    /// The size of blob `id` without reading its content. A loose blob's header is read by
    /// leakscan's own inflater (safe on a damaged file, and no full check of a big blob
    /// that is about to be streamed and checked as it is read).
    pub(crate) fn blob_size(&self, id: Oid) -> Result<u64, git2::Error> {
        if let Some(path) = self.loose.path(id) {
            return open_loose(path)
                .map(|r| r.len())
                .map_err(|e| io_error(id, &e));
        }
        Ok(self.repo.odb()?.read_header(id)?.0 as u64)
    }

    /// The tree of commit `id`.
    pub(crate) fn commit_tree(&self, id: Oid) -> Result<Tree<'r>, git2::Error> {
        let c = self.commit(id)?;
        self.tree(c.tree_id())
    }

    /// The commit `id` names, following annotated tags; `Ok(None)` when it names a tree or
    /// blob (a tag of one carries no history).
    pub(crate) fn peel_to_commit(&self, mut id: Oid) -> Result<Option<Oid>, git2::Error> {
        // Tags of tags are legal; a cycle is not, so the chain is bounded.
        for _ in 0..16 {
            self.loose.check(id)?;
            let obj = self.repo.find_object(id, None)?;
            match obj.kind() {
                Some(ObjectType::Commit) => return Ok(Some(id)),
                Some(ObjectType::Tag) => match obj.as_tag() {
                    Some(t) => id = t.target_id(),
                    None => return Ok(None),
                },
                _ => return Ok(None),
            }
        }
        Err(git2::Error::from_str("tag chain too long"))
    }

    /// The id of the entry at `/`-separated `path` under `tree`, reading each subtree
    /// through the guard (libgit2's own path lookup would read them unguarded).
    pub(crate) fn entry_at(&self, tree: &Tree<'r>, path: &[u8]) -> Option<(Oid, ObjectType)> {
        let mut parts = path.split(|&b| b == b'/').peekable();
        let mut current: Option<Tree<'r>> = None;
        while let Some(name) = parts.next() {
            let (id, kind) = {
                let t = current.as_ref().unwrap_or(tree);
                let e = t.get_name_bytes(name)?;
                (e.id(), e.kind()?)
            };
            if parts.peek().is_none() {
                return Some((id, kind));
            }
            if kind != ObjectType::Tree {
                return None;
            }
            current = Some(self.tree(id).ok()?);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::ZlibEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn loose_file(dir: &Path, body: &[u8]) -> PathBuf {
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::default());
        enc.write_all(body).unwrap();
        let p = dir.join("obj");
        std::fs::write(&p, enc.finish().unwrap()).unwrap();
        p
    }

    #[test]
    fn sound_truncated_and_lying_objects() {
        let dir = tempfile::tempdir().unwrap();
        let p = loose_file(dir.path(), b"blob 3\0hi\n");
        assert_eq!(verify(&p), Ok(()));
        let bytes = std::fs::read(&p).unwrap();
        for cut in [2usize, 5, bytes.len() - 1] {
            std::fs::write(&p, &bytes[..cut]).unwrap();
            assert!(verify(&p).is_err(), "cut at {cut}");
        }
        let p = loose_file(dir.path(), b"blob 2\0this body is longer than two bytes");
        assert_eq!(verify(&p), Err("longer than its header says".into()));
        let p = loose_file(dir.path(), b"blob 99\0short");
        assert_eq!(verify(&p), Err("shorter than its header says".into()));
        let p = loose_file(dir.path(), b"bogus 1\0x");
        assert!(verify(&p).is_err());
    }

    #[test]
    fn big_object_streams_through() {
        let dir = tempfile::tempdir().unwrap();
        let body: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut obj = format!("blob {}\0", body.len()).into_bytes();
        obj.extend_from_slice(&body);
        let p = loose_file(dir.path(), &obj);
        assert_eq!(verify(&p), Ok(()));
    }
}
