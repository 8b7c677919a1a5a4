//! Issue 13 item 1 (local repositories): `leakscan git REPO…` scans several repositories one
//! after another into one report; every finding names its repository, and one that cannot
//! be scanned is an error entry while the others are scanned.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use support_cli::{json_of, leakscan};
use support_git::Repo;

fn repo_with(path: &str, secret: &str) -> Repo {
    let r = Repo::new();
    r.write(
        path,
        &format!("TOKEN={}\n", common::legacy_token("ci", "deployer", secret)),
    );
    r.commit("add");
    r
}

#[test]
fn findings_name_their_repository_and_a_broken_one_does_not_stop_the_rest() {
    let a = repo_with("deploy/a.env", "token-aaaaa");
    let b = repo_with("ci/b.env", "token-bbbbb");
    let missing = tempfile::tempdir().unwrap();
    let not_a_repo = missing.path().join("nothing-here");
    let (pa, pb) = (a.path().to_str().unwrap(), b.path().to_str().unwrap());
    let pm = not_a_repo.to_str().unwrap();
    let out = leakscan(&["git", pa, pm, pb, "--format", "json", "--no-progress"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_of(&out);
    let found: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["repository"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        found.contains(&(pa.to_owned(), "deploy/a.env".to_owned())),
        "{found:?}"
    );
    assert!(
        found.contains(&(pb.to_owned(), "ci/b.env".to_owned())),
        "{found:?}"
    );
    assert_eq!(found.len(), 2);
    let errors = doc["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["path"] == pm && e["kind"] == "repository-error"),
        "{errors:?}"
    );
    assert_eq!(
        doc["stats"]["complete"], false,
        "a repository was not scanned"
    );
    assert_eq!(doc["stats"]["commits"], 2);

    // One repository that cannot be opened is still a plain error (exit 2), as before.
    let out = leakscan(&["git", pm, "--format", "json", "--no-progress"]);
    assert_eq!(out.status.code(), Some(2));
    // A single repository's findings name it too.
    let doc = json_of(&leakscan(&["git", pa, "--format", "json", "--no-progress"]));
    assert_eq!(doc["findings"][0]["repository"], pa);
}

#[test]
fn staged_takes_one_repository() {
    let a = repo_with("a.env", "token-ccccc");
    let p = a.path().to_str().unwrap();
    let out = leakscan(&["git", p, p, "--staged", "--no-progress"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--staged scans one repository"));
}

/// Fingerprints (and repositories) a `leakscan git` run reports, with its stderr.
fn fingerprints(args: &[&str], env: &[(&str, &str)]) -> (Vec<(String, String)>, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_leakscan"));
    cmd.args(args).args(["--format", "json", "--no-progress"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = json_of(&out);
    let mut fps: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["fingerprint"].as_str().unwrap().to_owned(),
                f["repository"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    fps.sort();
    (fps, err)
}

#[test]
fn shards_of_a_repository_list_add_up_to_one_run() {
    let repos: Vec<Repo> = (0..12)
        .map(|i| repo_with(&format!("svc-{i}/.env"), &format!("token-{i:05}")))
        .collect();
    let list = tempfile::NamedTempFile::new().unwrap();
    let mut text = String::from("# the fleet\n\n");
    for r in &repos {
        text.push_str(&format!("{}\n", r.path().display()));
    }
    std::fs::write(list.path(), text).unwrap();
    let file = list.path().to_str().unwrap();
    let (all, _) = fingerprints(&["git", "--repos", file], &[]);
    assert_eq!(all.len(), 12);
    let mut union = Vec::new();
    for i in 0..4 {
        let spec = format!("{i}/4");
        let (part, err) = fingerprints(&["git", "--repos", file, "--shard", &spec], &[]);
        assert!(
            err.contains(&format!(
                "leakscan: shard {i}/4: {} of 12 repositories",
                part.len()
            )),
            "{err}"
        );
        union.extend(part);
    }
    union.sort();
    assert_eq!(union, all, "shards are disjoint and cover every repository");
    // An Indexed Job's pod takes its index from the environment.
    let (two, _) = fingerprints(&["git", "--repos", file, "--shard", "2/4"], &[]);
    let (job, _) = fingerprints(
        &["git", "--repos", file, "--shard", "k8s-job/4"],
        &[("JOB_COMPLETION_INDEX", "2")],
    );
    assert_eq!(job, two);
    let out = leakscan(&["git", "--repos", file, "--shard", "k8s-job/4"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JOB_COMPLETION_INDEX"));
}
