//! `leakscan git` end to end: the real binary against real repositories.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use serde_json::Value;
use support_cli::leakscan;
use support_git::Repo;

/// Runs `leakscan git ARGS --format jsonl` and returns (exit code, findings, stderr).
fn git_jsonl(repo: &Repo, extra: &[&str]) -> (i32, Vec<Value>, String) {
    let path = repo.path().to_str().expect("utf-8 temp path");
    let mut args = vec!["git", path, "--format", "jsonl", "--no-progress"];
    args.extend_from_slice(extra);
    let out = leakscan(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut findings: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    findings.sort_by_key(|f| {
        (
            f["path"].as_str().unwrap_or("").to_owned(),
            f["line"].as_u64(),
        )
    });
    (
        out.status.code().unwrap_or(-1),
        findings,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tok(secret: &str) -> String {
    common::legacy_token("ci", "builder", secret)
}

#[test]
fn history_findings_carry_attribution_and_exit_1() {
    let r = Repo::new();
    r.write("README.md", "# demo\n");
    r.commit("initial");
    r.write("ops/kube.env", &format!("\nKUBE_TOKEN={}\n", tok("gone")));
    let leak = r.commit_as(
        ("Mallory Dev", "mallory@example.net"),
        "Add kube env\n\nbody",
    );
    std::fs::remove_file(r.join("ops/kube.env")).unwrap();
    r.commit("oops, remove it");

    let (code, f, stderr) = git_jsonl(&r, &["--threads", "1"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["rule_id"], "k8s-sa-token-legacy");
    assert_eq!(f[0]["path"], "ops/kube.env");
    assert_eq!(
        (f[0]["line"].as_u64(), f[0]["column"].as_u64()),
        (Some(2), Some(12))
    );
    let g = &f[0]["git"];
    assert_eq!(g["commit"], leak.as_str());
    assert_eq!(g["author_name"], "Mallory Dev");
    assert_eq!(g["author_email"], "mallory@example.net");
    assert_eq!(g["message"], "Add kube env");
    assert!(g["date"].as_str().unwrap_or("").ends_with("+02:00"), "{g}");
    // Redacted by default.
    assert!(!f[0]["secret"]
        .as_str()
        .unwrap_or("")
        .contains(&tok("gone")[20..]));

    let (code, _, _) = git_jsonl(&r, &["--exit-code", "7"]);
    assert_eq!(code, 7);
}

#[test]
fn clean_history_exits_0() {
    let r = Repo::new();
    r.write("src/main.rs", "fn main() {}\n");
    r.commit("clean");
    let (code, f, stderr) = git_jsonl(&r, &[]);
    assert_eq!((code, f.len()), (0, 0), "{stderr}");
    let out = leakscan(&["git", r.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(doc["stats"]["commits"], 1);
    assert_eq!(doc["stats"]["files"], 1);
}

#[test]
fn renamed_side_branch_and_merge() {
    let r = Repo::new();
    r.write("a.txt", &format!("{}\n", tok("renamed")));
    let first = r.commit("add a");
    r.mv("a.txt", "moved/a.txt");
    let moved = r.commit("move a");
    r.git(&["checkout", "-q", "-b", "topic"]);
    r.write("topic.txt", &format!("{}\n", tok("topic")));
    let topic = r.commit("topic leak");
    r.git(&["checkout", "-q", "main"]);
    r.write("other.txt", "x\n");
    r.commit("other");
    r.git(&["merge", "-q", "--no-ff", "--no-commit", "topic"]);
    r.write("merge.txt", &format!("{}\n", tok("merge")));
    let merge = r.commit("merge topic");

    let (code, f, _) = git_jsonl(&r, &[]);
    assert_eq!(code, 1);
    let got: Vec<_> = f
        .iter()
        .map(|x| {
            (
                x["path"].as_str().unwrap(),
                x["git"]["commit"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a.txt", first.as_str()),
            ("merge.txt", merge.as_str()),
            ("topic.txt", topic.as_str())
        ]
    );
    assert_eq!(f[0]["also_in"][0]["path"], "moved/a.txt");
    assert_eq!(f[0]["also_in"][0]["git"]["commit"], moved.as_str());

    // main reaches the merged topic too; an early commit reaches only itself.
    let (_, f, _) = git_jsonl(&r, &["--branch", "main"]);
    assert_eq!(f.len(), 3);
    let (_, f, _) = git_jsonl(&r, &["--branch", &first]);
    assert_eq!(f.len(), 1);
}

#[test]
fn range_and_since_commit() {
    let r = Repo::new();
    r.write("old.txt", &format!("{}\n", tok("old")));
    let base = r.commit("old leak");
    r.write("new.txt", &format!("{}\n", tok("new")));
    let leak = r.commit("new leak");
    r.write("clean.txt", "ok\n");
    let tip = r.commit("clean");

    let (code, f, _) = git_jsonl(&r, &["--range", &format!("{base}..HEAD")]);
    assert_eq!((code, f.len()), (1, 1));
    assert_eq!(f[0]["path"], "new.txt");
    assert_eq!(f[0]["git"]["commit"], leak.as_str());

    let (code, f, _) = git_jsonl(&r, &["--since-commit", &base]);
    assert_eq!((code, f.len()), (1, 1));

    let (code, f, _) = git_jsonl(&r, &["--range", &format!("{leak}..{tip}")]);
    assert_eq!((code, f.len()), (0, 0));

    let (code, _, stderr) = git_jsonl(&r, &["--range", "no-such-ref..HEAD"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no-such-ref"), "{stderr}");
}

#[test]
fn staged_blocks_new_tokens_only() {
    let r = Repo::new();
    r.write("known.txt", &format!("{}\n", tok("known")));
    r.commit("known leak");

    // Nothing staged: clean, even though HEAD has a token.
    let (code, f, _) = git_jsonl(&r, &["--staged"]);
    assert_eq!((code, f.len()), (0, 0));

    r.write("known.txt", &format!("{}\n# edited\n", tok("known")));
    r.git(&["add", "known.txt"]);
    let (code, f, _) = git_jsonl(&r, &["--staged"]);
    assert_eq!((code, f.len()), (0, 0), "already in HEAD: {f:?}");

    r.write("deploy/new.yaml", &format!("a: 1\ntoken: {}\n", tok("new")));
    r.git(&["add", "deploy/new.yaml"]);
    r.write("deploy/new.yaml", "a: 1\n");
    let (code, f, _) = git_jsonl(&r, &["--staged"]);
    assert_eq!(code, 1);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0]["path"].as_str(), f[0]["line"].as_u64()),
        (Some("deploy/new.yaml"), Some(2))
    );
    assert!(f[0].get("git").is_none());
}

#[test]
fn staged_without_commits_and_not_a_repo() {
    let r = Repo::new();
    r.write("first.txt", &format!("{}\n", tok("first")));
    r.git(&["add", "first.txt"]);
    let (code, f, _) = git_jsonl(&r, &["--staged"]);
    assert_eq!((code, f.len()), (1, 1));

    // An empty repository's history: a warning, exit 0.
    let (code, f, stderr) = git_jsonl(&r, &[]);
    assert_eq!((code, f.len()), (0, 0), "{stderr}");

    let plain = tempfile::tempdir().unwrap();
    let out = leakscan(&["git", plain.path().to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn verbose_history_scans_say_where_the_time_went() {
    let r = Repo::new();
    r.write("deploy/ci.env", &format!("TOKEN={}\n", tok("phases")));
    r.write("logs/app.log", &"2024-05-01 INFO ok\n".repeat(200_000));
    r.commit("work");
    let (code, findings, err) = git_jsonl(&r, &["-v"]);
    assert_eq!((code, findings.len()), (1, 1), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("leakscan: phases: "))
        .unwrap_or_else(|| panic!("no phase line: {err}"));
    // walk Xs, blobs Ys (thread time: read+inflate Zs, scan Ws), every figure a number.
    let figures: Vec<f64> = line
        .split([' ', ',', ')', '('])
        .filter_map(|w| w.strip_suffix('s')?.parse().ok())
        .collect();
    assert_eq!(figures.len(), 4, "{line}");
    assert!(figures.iter().all(|&f| f >= 0.0), "{line}");
    assert!(
        line.contains("read+inflate") && line.contains("scan"),
        "{line}"
    );
    // Without -v there is no timing line.
    let (_, _, quiet) = git_jsonl(&r, &[]);
    assert!(!quiet.contains("phases"), "{quiet}");
}
