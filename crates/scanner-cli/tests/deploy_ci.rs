//! Issue 13 item 4: the CI templates (deploy/github, deploy/gitlab) and every `leakscan`
//! command line shipped in deploy files. They parse as YAML, use only flags the build's
//! `--help` lists (so a renamed flag breaks this test, not a user's pipeline), and their
//! sharded scan scripts run here, one process per shard with the CI's index variables, on
//! real repositories, covering each repository exactly once.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_deploy;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::path::Path;
use std::process::{Command, Output};

use support_deploy::{
    assert_flags_exist, container_invocation, invocations, keys, read, s, seq, strings, yaml,
    yaml_docs, Fleet,
};
use yaml_rust2::Yaml;

const GITHUB: [&str; 2] = [
    "deploy/github/pull-request.yml",
    "deploy/github/org-sharded.yml",
];
const GITLAB: &str = "deploy/gitlab/leakscan.gitlab-ci.yml";

/// The `run` scripts of a GitHub workflow's job.
fn job_scripts(wf: &Yaml, job: &str) -> Vec<String> {
    seq(&wf["jobs"][job]["steps"], "steps")
        .iter()
        .filter_map(|st| st["run"].as_str().map(str::to_owned))
        .collect()
}

/// A GitLab job's `script` (a list of commands) as one script.
fn gitlab_script(ci: &Yaml, job: &str) -> String {
    strings(&ci[job]["script"], "script").join("\n")
}

/// Runs a script as CI runners do (bash, -e, pipefail) with leakscan on PATH and a HOME of
/// its own (the scripts set git's global config).
fn bash(script: &str, dir: &Path, home: &Path, env: &[(&str, String)]) -> Output {
    let bin = support_deploy::bin_dir();
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", support_deploy::path_with(bin.path()))
        .env("HOME", home)
        .env_remove("GIT_CONFIG_GLOBAL")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn log(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The credential git's global config (as the script left it in `home`) gives for a host.
fn credential_for(home: &Path, token: &str) -> String {
    let mut child = Command::new("git")
        .args(["credential", "fill"])
        .env("HOME", home)
        .env_remove("GIT_CONFIG_GLOBAL")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LEAKSCAN_GIT_TOKEN", token)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"protocol=https\nhost=git.example.com\n\n")
        .unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
}

/// The code of a Markdown text: fenced blocks and inline spans, one a line.
fn code_of(md: &str) -> String {
    let mut code = String::new();
    for (i, part) in md.split("```").enumerate() {
        if i % 2 == 1 {
            code += part.split_once('\n').map_or("", |(_, body)| body);
        } else {
            let prose = part.replace('\n', " ");
            for span in prose.split('`').skip(1).step_by(2) {
                code += span;
                code.push('\n');
            }
        }
    }
    code
}

#[test]
fn every_shipped_command_line_uses_flags_the_build_has() {
    for file in GITHUB {
        let wf = yaml(file);
        let mut invs = Vec::new();
        for job in keys(&wf["jobs"], "jobs") {
            for script in job_scripts(&wf, &job) {
                invs.extend(invocations(&script));
            }
        }
        if file.ends_with("pull-request.yml") {
            assert!(
                invs.is_empty(),
                "the PR workflow runs the action, not leakscan itself"
            );
            continue;
        }
        assert_flags_exist(file, &invs);
    }
    let ci = yaml(GITLAB);
    let mut invs = Vec::new();
    for job in keys(&ci, GITLAB) {
        for part in ["before_script", "script"] {
            if let Some(lines) = ci[job.as_str()][part].as_vec() {
                for l in lines {
                    invs.extend(invocations(s(l, part)));
                }
            }
        }
    }
    assert!(invs.iter().any(|i| i.sub.as_deref() == Some("merge")));
    assert_flags_exist(GITLAB, &invs);

    let mut invs = Vec::new();
    for e in std::fs::read_dir(support_deploy::root().join("deploy/kubernetes")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        for doc in yaml_docs(&format!("deploy/kubernetes/{name}")) {
            let pod = match doc["kind"].as_str() {
                Some("Job") => &doc["spec"]["template"]["spec"],
                _ => continue,
            };
            for c in seq(&pod["containers"], "containers")
                .iter()
                .chain(pod["initContainers"].as_vec().into_iter().flatten())
            {
                invs.push(container_invocation(&strings(&c["args"], "args")));
            }
        }
    }
    assert_eq!(invs.len(), 3, "{invs:?}");
    assert_flags_exist("deploy/kubernetes", &invs);

    // The README's fleet and deploy commands too.
    let readme = read("README.md");
    let section = readme
        .split("\n## Scanning an organisation\n")
        .nth(1)
        .expect("the README section");
    let section = section.split("\n## ").next().unwrap();
    assert_flags_exist("README.md", &invocations(&code_of(section)));
}

#[test]
fn the_checker_catches_a_flag_the_build_lacks() {
    let invs = invocations("leakscan git --repos r.txt \\\n  --shard-of 1/4 --format json");
    assert_eq!(invs[0].flags, ["--repos", "--shard-of", "--format"]);
    let caught = std::panic::catch_unwind(|| assert_flags_exist("x", &invs));
    assert!(caught.is_err());
    assert!(
        invocations("cargo install --git https://x/leakscan --tag v1 leakscan")[0]
            .flags
            .is_empty()
    );
}

#[test]
fn the_github_matrix_scans_each_repository_once_and_the_merge_joins_the_shards() {
    let wf = yaml("deploy/github/org-sharded.yml");
    let shards: Vec<i64> = seq(&wf["jobs"]["scan"]["strategy"]["matrix"]["shard"], "shard")
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let n = shards.len();
    assert_eq!(shards, (0..n as i64).collect::<Vec<_>>());
    let script = job_scripts(&wf, "scan")
        .into_iter()
        .find(|sc| sc.contains("--shard"))
        .unwrap();
    assert!(
        script.contains(&format!("--shard ${{{{ matrix.shard }}}}/{n}")),
        "{script}"
    );
    assert_eq!(s(&wf["jobs"]["merge"]["needs"], "needs"), "scan");

    let fleet = Fleet::new(6);
    let work = fleet.path("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::copy(fleet.list(), work.join("repos.txt")).unwrap();
    let home = fleet.path("home");
    std::fs::create_dir_all(&home).unwrap();
    for i in 0..n {
        let sc = script.replace("${{ matrix.shard }}", &i.to_string());
        let out = bash(&sc, &work, &home, &[("LEAKSCAN_GIT_TOKEN", String::new())]);
        assert!(out.status.success(), "shard {i}: {}", log(&out));
    }
    // git asks the helper, which reads the token from the environment only.
    let cred = credential_for(&home, "ghs_example");
    assert!(
        cred.contains("username=x-access-token\n") && cred.contains("password=ghs_example\n"),
        "{cred}"
    );
    assert!(!std::fs::read_to_string(home.join(".gitconfig"))
        .unwrap()
        .contains("ghs_example"));
    let files: Vec<_> = (0..n)
        .map(|i| work.join(format!("shard-{i}.json")))
        .collect();
    support_deploy::assert_shards_cover(&fleet, &files);

    // Only the merge step: the install step would build leakscan from the network.
    let merge = job_scripts(&wf, "merge")
        .into_iter()
        .find(|sc| sc.contains("leakscan merge"))
        .unwrap();
    let out = bash(&merge, &work, &home, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings turn the merge red: {}",
        log(&out)
    );
    support_deploy::assert_shards_cover(&fleet, &[work.join("leakscan.json")]);
    assert!(std::fs::read_to_string(work.join("leakscan.html"))
        .unwrap()
        .contains("k8s-sa-token-legacy"));
}

#[test]
fn the_gitlab_parallel_jobs_shard_by_ci_node_index() {
    let ci = yaml(GITLAB);
    let n = ci["leakscan-fleet"]["parallel"]
        .as_i64()
        .expect("parallel: N") as usize;
    assert!(n > 1);
    let script = gitlab_script(&ci, "leakscan-fleet");
    assert!(
        script.contains("$((CI_NODE_INDEX - 1))") && script.contains("/$CI_NODE_TOTAL"),
        "{script}"
    );
    assert_eq!(
        strings(&ci["leakscan-merge"]["needs"], "needs"),
        ["leakscan-fleet"]
    );

    let fleet = Fleet::new(6);
    let home = fleet.path("home");
    std::fs::create_dir_all(&home).unwrap();
    for node in 1..=n {
        let out = bash(
            &script,
            fleet.dir.path(),
            &home,
            &[
                ("CI_NODE_INDEX", node.to_string()),
                ("CI_NODE_TOTAL", n.to_string()),
                ("LEAKSCAN_REPOS", fleet.list().display().to_string()),
                ("LEAKSCAN_GIT_TOKEN", String::new()),
            ],
        );
        assert!(out.status.success(), "node {node}: {}", log(&out));
        assert!(
            log(&out).contains(&format!("leakscan: shard {}/{n}:", node - 1)),
            "{}",
            log(&out)
        );
    }
    let cred = credential_for(&home, "glpat-example");
    assert!(cred.contains("password=glpat-example\n"), "{cred}");
    let files: Vec<_> = (0..n)
        .map(|i| fleet.path(&format!("shard-{i}.json")))
        .collect();
    support_deploy::assert_shards_cover(&fleet, &files);
    let artifacts = strings(&ci["leakscan-fleet"]["artifacts"]["paths"], "paths");
    assert_eq!(artifacts, ["shard-*.json"]);

    let out = bash(
        &gitlab_script(&ci, "leakscan-merge"),
        fleet.dir.path(),
        &home,
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings fail the merge job: {}",
        log(&out)
    );
    for a in strings(&ci["leakscan-merge"]["artifacts"]["paths"], "paths") {
        assert!(fleet.path(&a).is_file(), "artifact {a} not written");
    }
    support_deploy::assert_shards_cover(&fleet, &[fleet.path("leakscan.json")]);
}

#[test]
fn the_gitlab_merge_request_job_scans_only_the_merge_requests_commits() {
    let ci = yaml(GITLAB);
    let script = gitlab_script(&ci, "leakscan");
    let r = support_git::Repo::new();
    r.write("README.md", "# app\n");
    let c0 = r.commit("init");
    let tok = common::legacy_token("prod", "deployer", "deployer-token-q9w8e");
    r.write("kubeconfig.env", &format!("# env\nTOKEN={tok}\n"));
    let c1 = r.commit("leak");
    let c2 = {
        r.write("kubeconfig.env", "# env\n");
        r.commit("remove")
    };
    let home = tempfile::tempdir().unwrap();
    let run = |base: Option<&str>| {
        let mut env = vec![("CI_COMMIT_SHA", c2.clone())];
        if let Some(b) = base {
            env.push(("CI_MERGE_REQUEST_DIFF_BASE_SHA", b.to_owned()));
        }
        bash(&script, r.path(), home.path(), &env)
    };
    // An MR based after the leak: clean; the default branch (whole history) and an MR
    // based before it: the job fails, and both reports are artifacts with the finding.
    assert_eq!(run(Some(&c1)).status.code(), Some(0));
    for base in [None, Some(c0.as_str())] {
        let out = run(base);
        assert_eq!(out.status.code(), Some(1), "{base:?}: {}", log(&out));
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(r.join("leakscan.json")).unwrap())
                .unwrap();
        assert_eq!(doc["findings"][0]["git"]["commit"], c1.as_str());
        assert_eq!(doc["findings"][0]["line"], 2);
        let sarif: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(r.join("leakscan.sarif")).unwrap())
                .unwrap();
        assert_eq!(
            sarif["runs"][0]["results"][0]["ruleId"],
            "k8s-sa-token-legacy"
        );
        support_deploy::assert_valid_sarif(&sarif);
    }
    for a in strings(&ci["leakscan"]["artifacts"]["paths"], "paths") {
        assert!(r.join(&a).is_file(), "{a}");
    }
}
