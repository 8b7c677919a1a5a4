//! The deploy files (Dockerfile, deploy/, action.yml) as the deploy tests read them: YAML,
//! the `leakscan` command lines inside scripts and manifests, the flags `--help` lists, and a
//! fleet of real repositories with signed tokens committed, to run those command lines on.
#![allow(dead_code)] // each test binary uses its own subset

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

use crate::common;
use crate::support_git::Repo;

/// The workspace root (where Dockerfile, action.yml and deploy/ live).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the workspace as text.
pub fn read(rel: &str) -> String {
    let p = root().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// Every YAML document of a workspace file; a parse error fails the test with its place.
pub fn yaml_docs(rel: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"))
}

/// The one YAML document of a workspace file.
pub fn yaml(rel: &str) -> Yaml {
    let mut docs = yaml_docs(rel);
    assert_eq!(docs.len(), 1, "{rel}: one document expected");
    docs.remove(0)
}

/// A string scalar, or a panic naming what was expected.
pub fn s<'a>(y: &'a Yaml, what: &str) -> &'a str {
    y.as_str()
        .unwrap_or_else(|| panic!("{what}: string expected, got {y:?}"))
}

/// A sequence, or a panic naming what was expected.
pub fn seq<'a>(y: &'a Yaml, what: &str) -> &'a [Yaml] {
    y.as_vec()
        .unwrap_or_else(|| panic!("{what}: list expected, got {y:?}"))
}

/// The string items of a sequence.
pub fn strings(y: &Yaml, what: &str) -> Vec<String> {
    seq(y, what).iter().map(|i| s(i, what).to_owned()).collect()
}

/// The keys of a mapping (strings).
pub fn keys(y: &Yaml, what: &str) -> Vec<String> {
    y.as_hash()
        .unwrap_or_else(|| panic!("{what}: mapping expected, got {y:?}"))
        .keys()
        .map(|k| s(k, what).to_owned())
        .collect()
}

/// One `leakscan` invocation found in a script: the subcommand (None for `leakscan --x`)
/// and every `--flag` given to it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub sub: Option<String>,
    pub flags: Vec<String>,
    pub line: String,
}

/// The `leakscan …` command lines of a shell script (backslash continuations joined). Only
/// the word `leakscan` itself starts one, so `cargo install … leakscan` yields a bare
/// invocation with no flags and a URL ending in /leakscan yields none.
pub fn invocations(script: &str) -> Vec<Invocation> {
    let joined = script.replace("\\\n", " ");
    let mut found = Vec::new();
    for line in joined.lines() {
        // Markdown's backticks and prose's brackets and commas are not part of a word.
        let words: Vec<&str> = line
            .split_whitespace()
            .map(|w| w.trim_matches(|c| matches!(c, '`' | '(' | ')' | ',')))
            .collect();
        let Some(at) = words.iter().position(|w| *w == "leakscan") else {
            continue;
        };
        if words[..at].iter().any(|w| w.starts_with('#')) {
            continue;
        }
        let rest: Vec<&str> = words[at + 1..]
            .iter()
            .copied()
            .take_while(|w| {
                !matches!(*w, ";" | "&&" | "||" | "|" | ">" | "2>") && !w.starts_with('#')
            })
            .collect();
        let sub = rest
            .first()
            .filter(|w| !w.starts_with('-'))
            .map(|w| w.to_string());
        let flags = rest
            .iter()
            .filter(|w| w.starts_with("--"))
            .map(|w| w.split('=').next().unwrap().trim_matches('"').to_owned())
            .collect();
        found.push(Invocation {
            sub,
            flags,
            line: line.trim().to_owned(),
        });
    }
    found
}

/// The invocation a container's `args` make (the image's entrypoint is leakscan).
pub fn container_invocation(args: &[String]) -> Invocation {
    Invocation {
        sub: args.first().filter(|a| !a.starts_with('-')).cloned(),
        flags: args
            .iter()
            .filter(|a| a.starts_with("--"))
            .cloned()
            .collect(),
        line: args.join(" "),
    }
}

/// The long flags `leakscan [SUB] --help` lists; None when the build has no such
/// subcommand (clap exits 2).
pub fn help_flags(sub: Option<&str>) -> Option<BTreeSet<String>> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakscan"));
    cmd.args(sub).arg("--help");
    let out = cmd.output().expect("running leakscan --help");
    if !out.status.success() {
        return None;
    }
    let help = String::from_utf8(out.stdout).expect("help is UTF-8");
    let flags: BTreeSet<String> = help
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| {
            l.split_whitespace()
                .map(|w| w.trim_end_matches(','))
                .find(|w| w.starts_with("--"))
                .map(str::to_owned)
        })
        .collect();
    assert!(
        flags.contains("--help"),
        "no flags parsed from {sub:?} --help"
    );
    Some(flags)
}

/// Every flag of every invocation is one `--help` of its subcommand lists; an unknown
/// subcommand fails.
pub fn assert_flags_exist(file: &str, invs: &[Invocation]) {
    assert!(!invs.is_empty(), "{file}: no leakscan command line found");
    for inv in invs {
        let known = help_flags(inv.sub.as_deref())
            .unwrap_or_else(|| panic!("{file}: `leakscan {:?}` is no subcommand", inv.sub));
        for f in &inv.flags {
            assert!(
                known.contains(f),
                "{file}: `{}` uses {f}, which `leakscan {} --help` does not list",
                inv.line,
                inv.sub.as_deref().unwrap_or("")
            );
        }
    }
}

/// Repositories for a fleet scan: real git repositories, each with its own legacy
/// service-account token committed at `deploy/ci.env` line 2, listed in `repos.txt`.
pub struct Fleet {
    pub dir: tempfile::TempDir,
    pub repos: Vec<Repo>,
    /// The secret committed in each repository, in `repos` order.
    pub tokens: Vec<String>,
}

impl Fleet {
    /// `n` repositories and their list.
    pub fn new(n: usize) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let mut repos = Vec::new();
        let mut tokens = Vec::new();
        for i in 0..n {
            let r = Repo::new();
            r.write("README.md", &format!("# service {i}\n"));
            r.commit("init");
            let tok = common::legacy_token(
                &format!("team-{i}"),
                "deployer",
                &format!("deployer-token-{i}"),
            );
            r.write("deploy/ci.env", &format!("# CI\nKUBE_TOKEN={tok}\n"));
            r.commit("ci env");
            repos.push(r);
            tokens.push(tok);
        }
        let list: String = repos
            .iter()
            .map(|r| format!("{}\n", r.path().display()))
            .collect();
        std::fs::write(dir.path().join("repos.txt"), format!("# the fleet\n{list}")).unwrap();
        Fleet { dir, repos, tokens }
    }

    /// The repository list.
    pub fn list(&self) -> PathBuf {
        self.dir.path().join("repos.txt")
    }

    /// A scratch path beside the list.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The repository entry (as listed) of repository `i`.
    pub fn repo_name(&self, i: usize) -> String {
        self.repos[i].path().display().to_string()
    }
}

/// The findings of a JSON report file.
pub fn findings_of(report: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(report).unwrap_or_else(|e| panic!("{}: {e}", report.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["findings"].as_array().expect("findings").clone()
}

/// Asserts that the shard reports together hold each fleet repository's token exactly once
/// (rule, path, line, repository), i.e. the shards split the list without gap or overlap.
pub fn assert_shards_cover(fleet: &Fleet, reports: &[PathBuf]) {
    let mut seen = vec![0usize; fleet.repos.len()];
    for report in reports {
        for f in findings_of(report) {
            assert_eq!(f["rule_id"], "k8s-sa-token-legacy", "{f}");
            assert_eq!(f["path"], "deploy/ci.env");
            assert_eq!(f["line"], 2);
            let repo = f["repository"].as_str().expect("repository");
            let i = (0..fleet.repos.len())
                .find(|&i| fleet.repo_name(i) == repo)
                .unwrap_or_else(|| panic!("unknown repository {repo}"));
            assert_eq!(f["token"]["namespace"], format!("team-{i}"));
            seen[i] += 1;
        }
    }
    assert_eq!(seen, vec![1; fleet.repos.len()], "findings per repository");
}

/// Validates a SARIF document against the official schema (../shared/thirdparty).
pub fn assert_valid_sarif(doc: &Value) {
    let Some(schema) = common::thirdparty("sarif-schema-2.1.0.json") else {
        return;
    };
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema).unwrap()).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
}

/// A directory holding a `leakscan` that is this build, to put first on PATH.
pub fn bin_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_leakscan"), d.path().join("leakscan")).unwrap();
    d
}

/// PATH with `dir` first.
pub fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}
