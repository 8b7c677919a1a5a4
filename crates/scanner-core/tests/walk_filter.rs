//! `--respect-gitignore`, `--skip-hidden` and `--exclude` decided by leakscan itself (so
//! that every entry left out is counted): the files scanned must be exactly those the
//! `ignore` crate's own walker yields with its filters on, and every file not scanned must
//! be reported, itself or through a directory above it.

mod common;
mod source_support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use scanner_core::source::fs::ScanOptions;
use source_support::*;

fn write(root: &Path, rel: &str, data: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, data).unwrap();
}

fn git_init(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let st = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .expect("git");
    assert!(st.success());
}

/// A checkout with the rules that trip walkers up: negation, directory-only and anchored
/// patterns, one-level globs, nested `.gitignore`s, a nested repository, `.ignore`,
/// `.git/info/exclude`, a whitelisted hidden directory; next to it a plain directory whose
/// `.gitignore` does not count (not a repository) but whose `.ignore` does.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path();
    let repo = top.join("repo");
    git_init(&repo);
    write(
        &repo,
        ".gitignore",
        "*.env\n!keep.env\nbuild/\n/anchored.txt\nlogs/*.log\nnode_modules/\n!.github/\n",
    );
    write(&repo, ".git/info/exclude", "local-notes.txt\n");
    write(&repo, ".ignore", "tmp/\n");
    for f in [
        "a.env",
        "keep.env",
        ".env",
        "build/out.txt",
        "src/build",
        "anchored.txt",
        "src/anchored.txt",
        "logs/app.log",
        "logs/old/app.log",
        "local-notes.txt",
        "tmp/t.txt",
        "node_modules/pkg/index.js",
        ".github/workflows/ci.yml",
        ".kube/config",
        "sub/a.env",
        "sub/b.env",
        "sub/x.txt",
        "sub/x.md",
        "sub/deeper/y.txt",
        "nested/a.env",
        "nested/only-nested.txt",
        "nested/tmp/n.txt",
        "nested/build/n.txt",
    ] {
        write(&repo, f, "data\n");
    }
    write(&repo, "sub/.gitignore", "!a.env\n*.txt\n");
    git_init(&repo.join("nested"));
    write(&repo, "nested/.gitignore", "only-nested.txt\n");
    let plain = top.join("plain");
    write(&plain, ".gitignore", "*.txt\n");
    write(&plain, ".ignore", "*.md\n");
    for f in ["a.txt", "a.md", "b.rs", ".hidden/c.txt"] {
        write(&plain, f, "data\n");
    }
    dir
}

/// Files the `ignore` crate's walker yields under `root` with its own filters.
fn crate_walk(root: &Path, respect: bool, skip_hidden: bool, exclude: &[&str]) -> BTreeSet<String> {
    let mut w = ignore::WalkBuilder::new(root);
    w.standard_filters(respect).hidden(skip_hidden);
    if !exclude.is_empty() {
        let mut ob = ignore::overrides::OverrideBuilder::new("");
        for g in exclude {
            ob.add(&format!("!{g}")).unwrap();
        }
        w.overrides(ob.build().unwrap());
    }
    w.filter_entry(|e| !matches!(e.file_name().to_str(), Some(".git" | ".hg" | ".svn")));
    w.build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| rel(root, e.path()))
        .collect()
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap().to_string_lossy().into_owned()
}

/// leakscan's scan of `root`: files scanned, and (path, kind) of each entry left out.
fn leakscan_walk(
    root: &Path,
    respect: bool,
    skip_hidden: bool,
    exclude: &[&str],
) -> (BTreeSet<String>, Vec<(String, String)>) {
    let opts = ScanOptions {
        no_ignore: !respect,
        hidden: !skip_hidden,
        exclude: exclude.iter().map(|s| s.to_string()).collect(),
        threads: 2,
        ..ScanOptions::default()
    };
    let out = scan_with(&scanner(), &[root.to_path_buf()], &opts);
    let scanned = out.scanned.iter().map(|s| s.0.clone()).collect();
    let skipped = out
        .errors
        .iter()
        .map(|e| (e.0.clone(), e.1.clone()))
        .collect();
    (scanned, skipped)
}

/// Checks one configuration on one root; returns the skips for exact assertions.
fn same_as_crate(
    root: &Path,
    respect: bool,
    skip_hidden: bool,
    exclude: &[&str],
) -> Vec<(String, String)> {
    let expected = crate_walk(root, respect, skip_hidden, exclude);
    let (scanned, skipped) = leakscan_walk(root, respect, skip_hidden, exclude);
    assert_eq!(
        scanned, expected,
        "{root:?} respect={respect} skip_hidden={skip_hidden} exclude={exclude:?}"
    );
    // Nothing left out silently: each file not scanned is itself reported, or lies under a
    // reported directory; nothing reported was scanned.
    let everything = crate_walk(root, false, false, &[]);
    for f in &everything {
        let covered = skipped
            .iter()
            .any(|(p, _)| f == p || Path::new(f).starts_with(p));
        assert_ne!(
            scanned.contains(f),
            covered,
            "{f}: scanned and reported, or neither ({skipped:?})"
        );
    }
    skipped
}

#[test]
fn respect_gitignore_scans_what_the_ignore_crate_walks() {
    let dir = tree();
    let repo = dir.path().join("repo");
    let skipped = same_as_crate(&repo, true, false, &[]);
    let ignored: Vec<&str> = skipped
        .iter()
        .inspect(|(_, k)| assert_eq!(k, "ignored"))
        .map(|(p, _)| p.as_str())
        .collect();
    // One entry per file or directory left out; nothing under an ignored directory.
    assert_eq!(
        ignored,
        [
            ".env",
            "a.env",
            "anchored.txt",
            "build",
            "local-notes.txt",
            "logs/app.log",
            "nested/only-nested.txt",
            "nested/tmp",
            "node_modules",
            "sub/b.env",
            "sub/deeper/y.txt",
            "sub/x.txt",
            "tmp",
        ]
    );
    // Rules of the directories above the scan root apply too.
    same_as_crate(&repo.join("sub"), true, false, &[]);
    same_as_crate(&repo.join("nested"), true, false, &[]);
    same_as_crate(&repo.join("sub/deeper"), true, false, &[]);
    // Outside a repository only .ignore counts.
    let plain = same_as_crate(&dir.path().join("plain"), true, false, &[]);
    assert_eq!(plain, [("a.md".to_string(), "ignored".to_string())]);
}

#[test]
fn skip_hidden_and_exclude_alone_and_combined_match_the_crate() {
    let dir = tree();
    let repo = dir.path().join("repo");
    let hidden = same_as_crate(&repo, false, true, &[]);
    assert_eq!(
        hidden,
        [
            ".env",
            ".github",
            ".gitignore",
            ".ignore",
            ".kube",
            "nested/.gitignore",
            "sub/.gitignore"
        ]
        .map(|p| (p.to_string(), "hidden".to_string()))
    );
    // A whitelisting rule (`!.github/`) brings a hidden directory back, as in ripgrep.
    let both = same_as_crate(&repo, true, true, &["*.md", "deeper/"]);
    let kind_of = |p: &str| {
        both.iter()
            .find(|s| s.0 == p)
            .map(|s| s.1.as_str())
            .unwrap_or("scanned")
    };
    assert_eq!(kind_of(".github"), "scanned");
    assert_eq!(kind_of(".kube"), "hidden");
    assert_eq!(kind_of("a.env"), "ignored");
    assert_eq!(
        kind_of(".env"),
        "ignored",
        "ignore rules come before hidden"
    );
    assert_eq!(kind_of("sub/x.md"), "excluded");
    assert_eq!(kind_of("sub/deeper"), "excluded", "--exclude comes first");
    same_as_crate(&dir.path().join("plain"), true, true, &["b.rs"]);
}

#[test]
fn the_default_scan_leaves_out_nothing_but_version_control() {
    let dir = tree();
    let repo = dir.path().join("repo");
    let (scanned, skipped) = leakscan_walk(&repo, false, false, &[]);
    assert!(skipped.is_empty(), "{skipped:?}");
    assert!(scanned.contains(".kube/config") && scanned.contains("a.env"));
    assert!(!scanned.iter().any(|p| p.contains(".git/")), "{scanned:?}");
}
