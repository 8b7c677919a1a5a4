//! History, range and staged scans over real repositories built with the `git` binary.

mod common;
mod support_git;

use std::sync::Mutex;

use scanner_core::source::git::{self, HistoryOptions, HistoryStats, Selection};
use scanner_core::source::Events;
use scanner_core::{Finding, Scanner};
use support_git::{Repo, ALICE};

#[derive(Default)]
struct Collect {
    findings: Mutex<Vec<Finding>>,
    errors: Mutex<Vec<(String, String, String)>>,
    scanned: Mutex<Vec<String>>,
}

impl Events for Collect {
    fn finding(&self, f: Finding) {
        self.findings.lock().unwrap().push(f);
    }
    fn error(&self, path: &str, kind: scanner_core::Problem, msg: &str) {
        self.errors
            .lock()
            .unwrap()
            .push((path.into(), kind.as_str().into(), msg.into()));
    }
    fn scanned(&self, path: &str, _bytes: u64) {
        self.scanned.lock().unwrap().push(path.into());
    }
}

impl Collect {
    fn sorted(&self) -> Vec<Finding> {
        let mut f = self.findings.lock().unwrap().clone();
        f.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        f
    }
    fn kinds(&self) -> Vec<String> {
        self.errors
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.1.clone())
            .collect()
    }
}

fn history(repo: &Repo, selection: Selection) -> (Vec<Finding>, Collect, HistoryStats) {
    let ev = Collect::default();
    let opts = HistoryOptions {
        selection,
        threads: 2,
        max_blob_size: None,
        ..HistoryOptions::default()
    };
    let stats = git::scan_history(repo.path(), &Scanner::new(), &opts, &ev).expect("scan");
    (ev.sorted(), ev, stats)
}

fn staged(repo: &Repo) -> (Vec<Finding>, Collect) {
    let ev = Collect::default();
    git::scan_staged(repo.path(), &Scanner::new(), &ev).expect("staged scan");
    (ev.sorted(), ev)
}

fn tok(secret: &str) -> String {
    common::legacy_token("prod", "deployer", secret)
}

fn commit_of(f: &Finding) -> &str {
    &f.git.as_ref().expect("git info").commit
}

#[test]
fn token_added_then_deleted_is_found_with_its_commit() {
    let r = Repo::new();
    r.write("README.md", "# demo\n");
    r.commit("initial");
    r.write(
        "deploy/token.txt",
        &format!("# ci\n\nTOKEN={}\n", tok("t1")),
    );
    let leak = r.commit("add deploy token");
    std::fs::remove_file(r.join("deploy/token.txt")).unwrap();
    r.commit("remove token");

    let (f, ev, stats) = history(&r, Selection::AllRefs);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule_id, "k8s-sa-token-legacy");
    assert_eq!(f[0].path, "deploy/token.txt");
    assert_eq!((f[0].line, f[0].column), (3, 7));
    let g = f[0].git.as_ref().unwrap();
    assert_eq!(g.commit, leak);
    assert_eq!((g.author_name.as_str(), g.author_email.as_str()), ALICE);
    assert_eq!(g.message, "add deploy token");
    assert!(f[0].also_in.is_empty());
    assert_eq!(stats.commits, 3);
    assert_eq!(stats.blobs, 2, "README and the token file, each once");
    assert!(ev.kinds().is_empty(), "{:?}", ev.errors.lock().unwrap());
}

#[test]
fn renamed_file_lists_both_introductions_earliest_first() {
    let r = Repo::new();
    r.write("a.env", &format!("TOKEN={}\n", tok("t2")));
    let first = r.commit("add a.env");
    r.mv("a.env", "config/renamed.env");
    let moved = r.commit("move it");

    let (f, _, _) = history(&r, Selection::AllRefs);
    assert_eq!(f.len(), 1, "one blob, scanned once: {f:?}");
    assert_eq!(f[0].path, "a.env");
    assert_eq!(commit_of(&f[0]), first);
    assert_eq!(f[0].also_in.len(), 1);
    assert_eq!(f[0].also_in[0].path, "config/renamed.env");
    assert_eq!(f[0].also_in[0].git.commit, moved);
    assert_eq!(f[0].also_in[0].git.message, "move it");
}

#[test]
fn token_only_on_a_side_branch() {
    let r = Repo::new();
    r.write("README.md", "# demo\n");
    r.commit("initial");
    r.git(&["checkout", "-q", "-b", "feature/kube"]);
    r.write("k8s/sa.txt", &format!("x\n{}\n", tok("t3")));
    let leak = r.commit("wip: service account");
    r.git(&["checkout", "-q", "main"]);

    let (f, _, _) = history(&r, Selection::AllRefs);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].path.as_str(), f[0].line), ("k8s/sa.txt", 2));
    assert_eq!(commit_of(&f[0]), leak);

    let (only_main, _, _) = history(&r, Selection::Refs(vec!["main".into()]));
    assert!(only_main.is_empty(), "{only_main:?}");
    let (only_feature, _, _) = history(&r, Selection::Refs(vec!["feature/kube".into()]));
    assert_eq!(only_feature.len(), 1);
}

#[test]
fn merge_commit_blamed_for_what_it_adds_not_for_side_branch_content() {
    let r = Repo::new();
    r.write("app.cfg", "a=1\n");
    r.commit("initial");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write("side.env", &format!("SIDE={}\n", tok("side")));
    let side = r.commit("side token");
    r.git(&["checkout", "-q", "main"]);
    r.write("main.txt", "main work\n");
    r.commit("main work");
    r.git(&["merge", "-q", "--no-ff", "--no-commit", "side"]);
    r.write("merged.env", &format!("\n\nMERGE={}\n", tok("merge")));
    let merge = r.commit("Merge branch 'side'");

    let (f, _, _) = history(&r, Selection::AllRefs);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!((f[0].path.as_str(), f[0].line), ("merged.env", 3));
    assert_eq!(commit_of(&f[0]), merge);
    assert_eq!(f[1].path, "side.env");
    assert_eq!(commit_of(&f[1]), side);
    assert!(
        f[1].also_in.is_empty(),
        "the merge did not introduce side.env: {f:?}"
    );
}

#[test]
fn same_secret_in_two_files() {
    let r = Repo::new();
    let t = tok("shared");
    r.write("one.sh", &format!("export TOKEN={t}\n"));
    r.write("two/values.yaml", &format!("auth:\n  token: {t}\n"));
    // An identical copy is one blob: one finding that lists both places.
    r.write("copy/one.sh", &format!("export TOKEN={t}\n"));
    let c = r.commit("add three files");

    let (f, _, stats) = history(&r, Selection::AllRefs);
    assert_eq!(stats.blobs, 2);
    assert_eq!(f.len(), 2, "{f:?}");
    let by_path: Vec<_> = f.iter().map(|x| (x.path.as_str(), x.line)).collect();
    assert!(by_path.contains(&("two/values.yaml", 2)), "{by_path:?}");
    let sh = f.iter().find(|x| x.path.ends_with("one.sh")).unwrap();
    assert_eq!(sh.also_in.len(), 1);
    let mut both = vec![sh.path.clone(), sh.also_in[0].path.clone()];
    both.sort();
    assert_eq!(both, ["copy/one.sh", "one.sh"]);
    assert!(f.iter().all(|x| commit_of(x) == c));
    assert_ne!(f[0].fingerprint, f[1].fingerprint);
}

#[test]
fn attribution_fields_of_another_author() {
    let r = Repo::new();
    r.write("README.md", "# demo\n");
    r.commit("initial");
    r.write("kube/ci.txt", &format!("{}\n", tok("bob")));
    let c = r.commit_as(
        ("Bob Builder", "bob@example.org"),
        "Add CI credentials\n\nThe long explanation.",
    );
    let when = r.last_time();

    let (f, _, _) = history(&r, Selection::AllRefs);
    assert_eq!(f.len(), 1);
    let g = f[0].git.as_ref().unwrap();
    assert_eq!(g.commit, c);
    assert_eq!(g.author_name, "Bob Builder");
    assert_eq!(g.author_email, "bob@example.org");
    assert_eq!(g.message, "Add CI credentials");
    let parsed =
        time::OffsetDateTime::parse(&g.date, &time::format_description::well_known::Rfc3339)
            .unwrap();
    assert_eq!(parsed.unix_timestamp(), when);
    assert!(g.date.ends_with("+02:00"), "{}", g.date);
}

#[test]
fn range_includes_and_excludes_commits() {
    let r = Repo::new();
    r.write("a.txt", &format!("{}\n", tok("old")));
    let c1 = r.commit("old token");
    r.write("b.txt", "clean\n");
    let c2 = r.commit("clean");
    r.write("c.txt", &format!("{}\n", tok("new")));
    let c3 = r.commit("new token");

    let (f, _, stats) = history(&r, Selection::Range(format!("{c1}..HEAD")));
    assert_eq!(stats.commits, 2);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].path.as_str(), commit_of(&f[0])),
        ("c.txt", c3.as_str())
    );

    let (f, _, stats) = history(&r, Selection::Range(format!("{c2}..{c3}")));
    assert_eq!((f.len(), stats.commits), (1, 1));
    // Only what the range introduced: a.txt is untouched since c1, so not scanned.
    assert_eq!(stats.blobs, 1);

    let (f, _, stats) = history(&r, Selection::Range(format!("{c3}..HEAD")));
    assert!(f.is_empty() && stats.commits == 0);

    // A bare commit means COMMIT..HEAD (--since-commit).
    let (f, _, _) = history(&r, Selection::Range(c2.clone()));
    assert_eq!(f.len(), 1);
    let (f, _, _) = history(&r, Selection::Range(format!("{c1}~0..{c1}")));
    assert!(f.is_empty());

    let ev = Collect::default();
    let bad = HistoryOptions {
        selection: Selection::Range("nope..HEAD".into()),
        ..HistoryOptions::default()
    };
    assert!(git::scan_history(r.path(), &Scanner::new(), &bad, &ev).is_err());
}

#[test]
fn staged_only_token_and_index_content_wins() {
    let r = Repo::new();
    r.write("keep.txt", &format!("{}\n", tok("in-head")));
    r.commit("existing leak");
    // Add a new token below the old one: only the new one is reported, at its staged line.
    r.write(
        "keep.txt",
        &format!("{}\nnew:\n{}\n", tok("in-head"), tok("staged")),
    );
    r.write("fresh.txt", &format!("a\nb\nTOKEN={}\n", tok("fresh")));
    r.git(&["add", "keep.txt", "fresh.txt"]);
    // Edited after `git add`: the work tree no longer has the token, the index does.
    r.write("fresh.txt", "clean now\n");
    // Not staged at all: ignored.
    r.write("unstaged.txt", &format!("{}\n", tok("unstaged")));

    let (f, _) = staged(&r);
    let got: Vec<_> = f
        .iter()
        .map(|x| (x.path.as_str(), x.line, x.column))
        .collect();
    assert_eq!(got, [("fresh.txt", 3, 7), ("keep.txt", 3, 1)], "{f:?}");
    assert!(f.iter().all(|x| x.git.is_none()));

    // The reverse: a clean staged version with a token only in the work tree passes.
    let r = Repo::new();
    r.write("x.txt", "clean\n");
    r.git(&["add", "x.txt"]);
    r.write("x.txt", &format!("{}\n", tok("worktree")));
    assert!(staged(&r).0.is_empty());
}

#[test]
fn staged_in_a_repository_without_commits() {
    let r = Repo::new();
    r.write("dir/first.yaml", &format!("token: {}\n", tok("unborn")));
    r.git(&["add", "-A"]);
    let (f, ev) = staged(&r);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].path.as_str(), f[0].line), ("dir/first.yaml", 1));
    assert!(ev.kinds().is_empty());
    // And the history of that repository is empty: a warning, not a failure.
    let (f, ev, stats) = history(&r, Selection::AllRefs);
    assert!(f.is_empty() && stats.commits == 0);
    assert_eq!(ev.kinds(), ["empty-repository"]);
}

#[test]
fn staged_rename_of_a_known_leak_is_not_reported_again() {
    let r = Repo::new();
    r.write("old/name.txt", &format!("{}\n", tok("known")));
    r.commit("known leak");
    r.mv("old/name.txt", "new/name.txt");
    assert!(staged(&r).0.is_empty());
    assert!(staged(&r).1.kinds().is_empty());
}

#[test]
fn missing_blob_is_a_warning_and_the_rest_is_scanned() {
    let r = Repo::new();
    r.write("big.bin", &"x".repeat(10_000));
    r.write("leak.txt", &format!("{}\n", tok("survivor")));
    r.commit("two files");
    let big = r.git(&["rev-parse", "HEAD:big.bin"]);
    let obj = r.join(&format!(".git/objects/{}/{}", &big[..2], &big[2..]));
    std::fs::remove_file(obj).unwrap();

    let (f, ev, stats) = history(&r, Selection::AllRefs);
    assert_eq!(f.len(), 1);
    assert_eq!(stats.unreadable, 1);
    let errors = ev.errors.lock().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].1, "missing-object");
    assert!(errors[0].0.ends_with(":big.bin"), "{errors:?}");
}

#[test]
fn shallow_clone_and_missing_head() {
    let r = Repo::new();
    r.write("old.txt", &format!("{}\n", tok("deep")));
    r.commit("deep history");
    r.write("tip.txt", &format!("{}\n", tok("tip")));
    r.commit("tip");

    let dst = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.path().display());
    let clone = dst.path().join("c");
    let out = r
        .cmd()
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(&clone)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ev = Collect::default();
    let stats = git::scan_history(&clone, &Scanner::new(), &HistoryOptions::default(), &ev)
        .expect("shallow scan");
    assert_eq!(stats.commits, 1);
    // The boundary commit is scanned whole: both files are in its tree.
    assert_eq!(ev.findings.lock().unwrap().len(), 2);
    assert!(ev.kinds().contains(&"shallow-clone".to_string()));

    // HEAD pointing at a branch that does not exist: the other refs are still scanned.
    r.git(&["symbolic-ref", "HEAD", "refs/heads/nothing-here"]);
    let (f, _, _) = history(&r, Selection::AllRefs);
    assert_eq!(f.len(), 2);
}

#[test]
fn every_blob_is_read_once_across_many_commits() {
    let r = Repo::new();
    for i in 0..12 {
        r.write(&format!("f{}.txt", i % 3), &format!("version {i}\n"));
        r.write("same.txt", "never changes\n");
        r.commit(&format!("c{i}"));
    }
    let (_, ev, stats) = history(&r, Selection::AllRefs);
    let expected = r
        .git(&["rev-list", "--objects", "--all"])
        .lines()
        .filter(|l| l.contains(".txt"))
        .count() as u64;
    assert_eq!(stats.blobs, expected);
    assert_eq!(ev.scanned.lock().unwrap().len() as u64, expected);
    assert_eq!(stats.commits, 12);
}

#[test]
fn corrupt_object_is_a_warning() {
    let r = Repo::new();
    r.write("broken.txt", "will be corrupted\n");
    r.write("leak.txt", &format!("{}\n", tok("still-found")));
    r.commit("two files");
    let id = r.git(&["rev-parse", "HEAD:broken.txt"]);
    let obj = r.join(&format!(".git/objects/{}/{}", &id[..2], &id[2..]));
    let mut perms = std::fs::metadata(&obj).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&obj, perms).unwrap();
    std::fs::write(&obj, b"\x78\x9c not zlib at all").unwrap();

    let (f, ev, stats) = history(&r, Selection::AllRefs);
    assert_eq!(f.len(), 1);
    assert_eq!(stats.unreadable, 1);
    assert_eq!(ev.kinds(), ["corrupt-object"]);
}
