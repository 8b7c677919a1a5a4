use super::*;
use crate::source::git::test_git::git;
use std::collections::HashMap;
use std::sync::Mutex;

/// A repository with one file in 30 versions (long delta chains with branches), packed.
fn packed_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    let mut text: String = (0..3000)
        .map(|i| format!("line {i} of the file\n"))
        .collect();
    for v in 0..30 {
        text.insert_str((v * 997) % text.len(), &format!("version {v}\n"));
        std::fs::write(d.join("a.txt"), &text).unwrap();
        std::fs::write(
            d.join(format!("f{}.txt", v % 4)),
            format!("{v}\n").repeat(400),
        )
        .unwrap();
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", &format!("v{v}")]);
        if v == 15 {
            git(d, &["checkout", "-qb", "side"]);
        }
    }
    git(d, &["gc", "-q", "--aggressive"]);
    dir
}

/// Every object of `kind` git lists, with its content.
fn git_objects(d: &Path, kind: &str) -> HashMap<Oid, Vec<u8>> {
    let list = git(
        d,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objectname) %(objecttype)",
        ],
    );
    list.lines()
        .filter(|l| l.ends_with(kind))
        .map(|l| {
            let id = &l[..40];
            let out = std::process::Command::new("git")
                .args(["cat-file", kind, id])
                .current_dir(d)
                .output()
                .unwrap();
            (Oid::from_str(id).unwrap(), out.stdout)
        })
        .collect()
}

fn traverse_all(forests: &[PackForest], kind: u8) -> HashMap<Oid, Vec<u8>> {
    let got = Mutex::new(HashMap::new());
    for f in forests {
        f.traverse(kind, &|_| true, &|e, data| {
            let prev = got.lock().unwrap().insert(f.id(e), data.to_vec());
            assert!(prev.is_none(), "visited twice");
            true
        });
    }
    got.into_inner().unwrap()
}

#[test]
fn every_blob_and_tree_is_built_once_with_git_s_content() {
    let dir = packed_repo();
    let d = dir.path();
    let forests = open_all(&d.join(".git/objects/pack"));
    assert_eq!(forests.len(), 1);
    for (kind, name) in [
        (OBJ_BLOB, "blob"),
        (OBJ_TREE, "tree"),
        (OBJ_COMMIT, "commit"),
    ] {
        let want = git_objects(d, name);
        let got = traverse_all(&forests, kind);
        assert_eq!(got.len(), want.len(), "{name}");
        assert!(got == want, "{name} contents differ");
    }
    // The file's versions really are deltas (else this test proves little).
    let f = &forests[0];
    assert!((0..f.len() as u32).any(|e| f.bases[e as usize] != NONE));
    // Asking for one blob builds only it (and its bases), and visits only it.
    let one = *git_objects(d, "blob").keys().next().unwrap();
    let seen = Mutex::new(Vec::new());
    f.traverse(OBJ_BLOB, &|e| f.id(e) == one, &|e, _| {
        seen.lock().unwrap().push(f.id(e));
        true
    });
    assert_eq!(seen.into_inner().unwrap(), vec![one]);
}

#[test]
fn a_damaged_entry_and_its_deltas_are_left_out_without_panicking() {
    let dir = packed_repo();
    let d = dir.path();
    let pack_dir = d.join(".git/objects/pack");
    let forests = open_all(&pack_dir);
    let f = &forests[0];
    // The blob root with the most deltas built on it.
    let root = (0..f.len() as u32)
        .filter(|&e| f.kinds[e as usize] == OBJ_BLOB && f.bases[e as usize] == NONE)
        .max_by_key(|&e| f.kids(e).len())
        .unwrap();
    assert!(!f.kids(root).is_empty());
    let all = traverse_all(&forests, OBJ_BLOB).len();
    let (start, end) = (f.offsets[root as usize], f.offsets[root as usize + 1]);
    let pack = std::fs::read_dir(&pack_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .unwrap();
    let mut bytes = std::fs::read(&pack).unwrap();
    for b in &mut bytes[(start + (end - start) / 2) as usize..end as usize] {
        *b ^= 0x5a;
    }
    std::fs::remove_file(&pack).unwrap();
    std::fs::write(&pack, &bytes).unwrap();
    let damaged = open_all(&pack_dir);
    let got = traverse_all(&damaged, OBJ_BLOB);
    assert!(
        got.len() < all - f.kids(root).len(),
        "{} of {all}",
        got.len()
    );
    assert!(!got.contains_key(&f.id(root)));
    // What is still built is still right.
    let want = git_objects(d, "blob");
    assert!(got.iter().all(|(id, data)| want.get(id) == Some(data)));
    // Read one by one: the damaged root and its deltas are not built, the rest are right.
    let lookup = crate::source::git::lookup::Lookup::new(&damaged);
    assert!(lookup.get(f.id(root), OBJ_BLOB).is_none());
    for &kid in f.kids(root) {
        assert!(lookup.get(f.id(kid), OBJ_BLOB).is_none());
    }
    for (id, data) in &got {
        assert_eq!(lookup.get(*id, OBJ_BLOB).as_deref(), Some(&data[..]));
    }
}

#[test]
fn deltas_that_lie_are_refused() {
    let base = b"0123456789abcdef";
    // base size 16, result 6: copy 4 bytes at 2, insert "xy".
    let d = [16, 6, 0x80 | 0x01 | 0x10, 2, 4, 2, b'x', b'y'];
    assert_eq!(apply_delta(base, &d).unwrap(), b"2345xy");
    // Wrong base size, result longer or shorter than stated, copy past the base, op 0.
    assert!(apply_delta(base, &[15, 6, 0x91, 2, 4, 2, b'x', b'y']).is_none());
    assert!(apply_delta(base, &[16, 5, 0x91, 2, 4, 2, b'x', b'y']).is_none());
    assert!(apply_delta(base, &[16, 7, 0x91, 2, 4, 2, b'x', b'y']).is_none());
    assert!(apply_delta(base, &[16, 4, 0x91, 14, 4]).is_none());
    assert!(apply_delta(base, &[16, 1, 0]).is_none());
    assert!(apply_delta(base, &[16, 9, 9, b'a']).is_none());
    // A result bigger than MAX_OBJECT is never allocated.
    assert!(apply_delta(base, &[16, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_none());
    assert_eq!(ofs_base(&[0x05]), Some((5, 1)));
    assert_eq!(ofs_base(&[0x81, 0x00]), Some((256, 2)));
    assert_eq!(ofs_base(&[0xff; 12]), None);
}

#[test]
fn every_object_read_one_by_one_is_git_s() {
    let dir = packed_repo();
    let d = dir.path();
    let forests = open_all(&d.join(".git/objects/pack"));
    let lookup = crate::source::git::lookup::Lookup::new(&forests);
    for (kind, name) in [
        (OBJ_BLOB, "blob"),
        (OBJ_TREE, "tree"),
        (OBJ_COMMIT, "commit"),
    ] {
        let want = git_objects(d, name);
        // Oldest first and newest first: down a delta chain and up it, through the cache.
        let mut ids: Vec<Oid> = want.keys().copied().collect();
        ids.sort();
        for id in ids.iter().chain(ids.iter().rev()) {
            let got = lookup
                .get(*id, kind)
                .unwrap_or_else(|| panic!("{name} {id}"));
            assert_eq!(&got[..], &want[id][..], "{name} {id}");
        }
    }
    // Asked for as the wrong type, or not in the packs: left to libgit2.
    let blob = *git_objects(d, "blob").keys().next().unwrap();
    assert!(lookup.get(blob, OBJ_TREE).is_none());
    assert!(lookup.get(Oid::zero(), OBJ_BLOB).is_none());
}
