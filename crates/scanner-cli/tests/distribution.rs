//! Issue 13 item 5: shell completions and the man page come from the same argument
//! definitions as --help, and --version names the commit the binary was built from.

mod support_cli;

use std::io::Write;
use std::process::{Command, Stdio};

use support_cli::leakscan;

fn stdout_of(args: &[&str]) -> String {
    let out = leakscan(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn version_names_the_commit() {
    let v = stdout_of(&["--version"]);
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let expected = head.unwrap_or_else(|| "unknown".into());
    assert_eq!(
        v.trim(),
        format!("leakscan {} (commit {expected})", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(stdout_of(&["version"]), v);
}

#[test]
fn bash_completion_is_valid_bash_and_knows_every_subcommand_and_flag() {
    let script = stdout_of(&["completions", "bash"]);
    // bash -n: the script parses.
    let mut bash = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash");
    bash.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = bash.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for word in [
        "scan",
        "git",
        "baseline",
        "rules",
        "completions",
        "--format",
        "--staged",
        "--show-secrets",
        "html",
    ] {
        assert!(script.contains(word), "{word} not completed");
    }
    // Completing for real: `leakscan sc<TAB>` offers scan.
    let probe = format!(
        "{script}\nCOMP_WORDS=(leakscan sc); COMP_CWORD=1; COMP_LINE='leakscan sc'; COMP_POINT=11; _leakscan leakscan sc leakscan; echo \"${{COMPREPLY[@]}}\""
    );
    let out = Command::new("bash").args(["-c", &probe]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "scan");
}

#[test]
fn zsh_and_fish_completions_are_generated() {
    assert!(stdout_of(&["completions", "zsh"]).starts_with("#compdef leakscan"));
    let fish = stdout_of(&["completions", "fish"]);
    assert!(fish.contains("complete -c leakscan"), "{fish}");
    assert!(fish.contains("-l fail-on-incomplete"), "{fish}");
}

#[test]
fn the_man_page_documents_the_commands() {
    let man = stdout_of(&["man"]);
    assert!(man.contains(".TH leakscan 1"), "{man}");
    assert!(man.contains("Finds leaked Kubernetes credentials"));
    for sub in ["leakscan\\-scan", "leakscan\\-git", "leakscan\\-rules"] {
        assert!(man.contains(sub), "{sub} missing");
    }
    assert!(man.contains(env!("CARGO_PKG_VERSION")));
}
