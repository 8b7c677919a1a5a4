//! The walk's introductions against git's own diffs, with trees and commits from the packs
//! and through libgit2.

use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::source::git::objects::LooseObjects;
use crate::source::git::pack::open_all;
use crate::source::git::stream::Packs;
use crate::source::git::test_git::{command, git};

const ZERO: &str = "0000000000000000000000000000000000000000";

fn write(d: &Path, path: &str, text: &str) {
    let p = d.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn commit(d: &Path, msg: &str) {
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", msg]);
}

/// A history with renames, copies, re-adds, a file turned into a directory and back, a
/// symlink, a gitlink, clean, evil, conflicted and octopus merges; packed.
fn history() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    let big: String = (0..400).map(|i| format!("line {i}\n")).collect();
    write(d, "a.txt", &big);
    write(d, "dir/b.txt", "b\n");
    write(d, "dir/sub/c.txt", "c\n");
    for i in 0..40 {
        write(d, &format!("many/f{i:02}.txt"), &format!("{i}\n"));
    }
    std::os::unix::fs::symlink("a.txt", d.join("link")).unwrap();
    commit(d, "root");
    write(d, "a.txt", &format!("{big}more\n"));
    git(d, &["mv", "dir/b.txt", "dir/b2.txt"]);
    write(d, "x", "x is a file\n");
    write(d, "copy/c.txt", "c\n");
    commit(d, "rename, copy, add");
    git(d, &["checkout", "-qb", "side"]);
    write(d, "many/f10.txt", "ten on side\n");
    write(d, "side.txt", "side\n");
    commit(d, "side 1");
    git(d, &["checkout", "-q", "main"]);
    std::fs::remove_file(d.join("x")).unwrap();
    write(d, "x/y.txt", "x is a directory\n");
    std::fs::remove_dir_all(d.join("dir/sub")).unwrap();
    write(d, "dir/sub", "sub is a file\n");
    write(d, "many/f07.txt", "seven\n");
    commit(d, "file to dir and back");
    git(d, &["merge", "-q", "--no-edit", "side"]);
    // An evil merge: content of the merge's own.
    git(d, &["checkout", "-qb", "topic", "HEAD~1"]);
    write(d, "topic.txt", "topic\n");
    commit(d, "topic");
    git(d, &["checkout", "-q", "main"]);
    git(d, &["merge", "-q", "--no-commit", "topic"]);
    write(d, "evil.txt", "added by the merge\n");
    commit(d, "evil merge");
    // A conflict resolved to a third content.
    git(d, &["checkout", "-qb", "fight", "HEAD~1"]);
    write(d, "a.txt", "fight's a\n");
    commit(d, "fight");
    git(d, &["checkout", "-q", "main"]);
    write(d, "a.txt", "main's a\n");
    commit(d, "main's a");
    let conflict = command(d, &["merge", "-q", "fight"]).output().unwrap();
    assert!(!conflict.status.success(), "the merge conflicts");
    write(d, "a.txt", "resolved a\n");
    commit(d, "resolved");
    // Octopus: two branches at once.
    for (b, f) in [("o1", "many/f01.txt"), ("o2", "many/f02.txt")] {
        git(d, &["checkout", "-qb", b, "main"]);
        write(d, &format!("{b}.txt"), b);
        write(d, f, &format!("{b}'s\n"));
        commit(d, b);
    }
    git(d, &["checkout", "-q", "main"]);
    git(
        d,
        &["merge", "-q", "--no-edit", "-s", "octopus", "o1", "o2"],
    );
    write(d, "many/f01.txt", "octopus f01\n");
    commit(d, "after octopus");
    // A gitlink, then the deleted file's content again at its old path (a re-add).
    let head = git(d, &["rev-parse", "HEAD"]);
    git(
        d,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{head},module"),
        ],
    );
    write(d, "x/y.txt", "x is a file\n");
    commit(d, "gitlink, re-add");
    git(d, &["gc", "-q", "--aggressive"]);
    dir
}

/// (path, blob) pairs git says commit `c` holds that differ from every parent, without
/// gitlinks and deletions.
fn git_introduced(d: &Path, c: &str, parents: usize) -> BTreeSet<(String, Oid)> {
    let out = match parents {
        0 => git(d, &["ls-tree", "-r", "--full-tree", c]),
        1 => git(
            d,
            &[
                "diff-tree",
                "-r",
                "--no-renames",
                "--raw",
                "--no-abbrev",
                &format!("{c}^"),
                c,
            ],
        ),
        _ => git(
            d,
            &[
                "diff-tree",
                "-c",
                "-r",
                "--raw",
                "--no-abbrev",
                "--no-commit-id",
                c,
            ],
        ),
    };
    out.lines()
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let (meta, path) = l.split_once('\t')?;
            let f: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
            let (mode, id) = match parents {
                0 => (f[0], f[2]),
                // ":old new old_id new_id status", or with n parents n+1 modes then
                // n+1 ids: the merge's own come last.
                n => (f[n.min(1) + (n - n.min(1))], f[2 * n + 1]),
            };
            (mode != "160000" && id != ZERO).then(|| (path.to_owned(), Oid::from_str(id).unwrap()))
        })
        .collect()
}

#[test]
fn every_introduction_matches_git_whichever_way_trees_are_read() {
    let dir = history();
    let d = dir.path();
    let repo = git2::Repository::open(d).unwrap();
    let git_dir = repo.path().to_path_buf();
    let loose = LooseObjects::list(&git_dir);
    let packs = Packs::new(&git_dir);
    let objs = Objects {
        repo: &repo,
        loose: &loose,
        packs: &packs,
    };
    let forests = open_all(packs.dir());
    assert!(!forests.is_empty(), "the history is packed");
    let stores = [
        ("from the packs", TreeStore::fill(&forests, &git_dir)),
        ("through libgit2", TreeStore::fill(&[], &git_dir)),
    ];
    let commits = git(d, &["rev-list", "--all", "--parents"]);
    let mut merges = 0;
    for line in commits.lines() {
        let ids: Vec<&str> = line.split(' ').collect();
        let parents = ids.len() - 1;
        merges += usize::from(parents > 1);
        let want = git_introduced(d, ids[0], parents);
        for (how, store) in &stores {
            let mut warnings = Vec::new();
            let got: BTreeSet<(String, Oid)> = introduced(
                objs,
                store,
                Oid::from_str(ids[0]).unwrap(),
                &mut |p, k, m| warnings.push((p, k, m)),
            )
            .unwrap()
            .into_iter()
            .map(|a| (a.path, a.blob))
            .collect();
            assert_eq!(
                got, want,
                "commit {} ({parents} parents), trees {how}",
                ids[0]
            );
            assert!(
                warnings.iter().all(|w| w.1 == Problem::Submodule),
                "{warnings:?}"
            );
        }
    }
    assert_eq!(merges, 4, "clean, evil, resolved and octopus merges");
}
