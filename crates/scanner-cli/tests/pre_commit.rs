//! The real `pre-commit` framework running leakscan's shipped hook in a temporary repository.
//!
//! The hook manifest says `language: rust`, which makes pre-commit `cargo install` this
//! repository (minutes of release build) before the first run. The everyday test therefore
//! takes the shipped hook's `entry` and `args` verbatim and runs them as a `repo: local`,
//! `language: system` hook with the binary cargo just built; the `#[ignore]`d test does the
//! full `language: rust` install for a manual check (`cargo test -- --ignored`).

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::path::Path;
use std::process::{Command, Output};

use support_git::Repo;

/// The shipped hook's (`entry`, `args`), read from the manifest with a tiny line parser.
fn shipped_hook() -> (String, Vec<String>) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.pre-commit-hooks.yaml");
    let text = std::fs::read_to_string(&manifest).expect("reading .pre-commit-hooks.yaml");
    let field = |name: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("{name} missing from the manifest"))
    };
    assert!(text.contains("- id: leakscan"));
    assert_eq!(field("language:"), "rust");
    assert_eq!(field("pass_filenames:"), "false");
    let args = field("args:");
    let args = args.trim_start_matches('[').trim_end_matches(']');
    let args = args.split(',').map(|a| a.trim().to_owned()).collect();
    (field("entry:"), args)
}

/// Whether pre-commit is installed; CI (`.ci/run` installs it) must have it.
fn have_pre_commit() -> bool {
    let ok = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "pre-commit is not installed (python3 -m pip install pre-commit)"
        );
        eprintln!("skipping: pre-commit is not installed (python3 -m pip install pre-commit)");
    }
    ok
}

fn pre_commit(repo: &Repo, cache: &Path, args: &[&str]) -> Output {
    let mut c = repo.cmd();
    c.args(["commit", "-q", "-m"]).args(args);
    c.env("PRE_COMMIT_HOME", cache)
        .env("PRE_COMMIT_COLOR", "never")
        .output()
        .expect("git commit")
}

#[test]
fn pre_commit_blocks_a_staged_token_and_passes_a_clean_change() {
    if !have_pre_commit() {
        return;
    }
    let (entry, args) = shipped_hook();
    let bin = env!("CARGO_BIN_EXE_leakscan");
    let entry = entry.replacen("leakscan", bin, 1);
    let r = Repo::new();
    let cache = tempfile::tempdir().unwrap();
    let args = args
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    r.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: local\n    hooks:\n      - id: leakscan\n        name: leakscan\n        entry: {entry}\n        args: [{args}]\n        language: system\n        pass_filenames: false\n"
        ),
    );
    let out = Command::new("pre-commit")
        .args(["install"])
        .current_dir(r.path())
        .env("PRE_COMMIT_HOME", cache.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A clean change passes.
    r.write("README.md", "# hello\n");
    r.git(&["add", "-A"]);
    let ok = pre_commit(&r, cache.path(), &["clean"]);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(ok.status.success(), "clean commit was blocked:\n{log}");
    assert!(log.contains("leakscan") && log.contains("Passed"), "{log}");
    let head = r.head();

    // A staged token blocks the commit, even if the work tree copy was cleaned afterwards.
    let tok = common::legacy_token("prod", "deployer", "deployer-token-abcde");
    r.write("deploy/ci.env", &format!("KUBE_TOKEN={tok}\n"));
    r.git(&["add", "deploy/ci.env"]);
    r.write("deploy/ci.env", "KUBE_TOKEN=\n");
    let blocked = pre_commit(&r, cache.path(), &["add ci env"]);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&blocked.stdout),
        String::from_utf8_lossy(&blocked.stderr)
    );
    assert!(!blocked.status.success(), "the token was committed:\n{log}");
    assert!(log.contains("Failed"), "{log}");
    assert!(log.contains("deploy/ci.env"), "{log}");
    assert_eq!(r.head(), head, "HEAD moved");
}

/// The shipped `language: rust` hook end to end: pre-commit `cargo install`s this repository
/// (a release build, minutes), then blocks a staged token. Run with `--ignored`.
#[test]
#[ignore = "cargo-installs the whole project through pre-commit (minutes)"]
fn shipped_rust_hook_via_try_repo() {
    if !have_pre_commit() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let r = Repo::new();
    let cache = tempfile::tempdir().unwrap();
    r.write("README.md", "# hello\n");
    r.commit("initial");
    let tok = common::legacy_token("prod", "deployer", "deployer-token-abcde");
    r.write("leak.env", &format!("KUBE_TOKEN={tok}\n"));
    r.git(&["add", "leak.env"]);
    let out = Command::new("pre-commit")
        .args(["try-repo", root.to_str().unwrap(), "leakscan", "--verbose"])
        .current_dir(r.path())
        .env("PRE_COMMIT_HOME", cache.path())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("leak.env"), "{log}");
}
