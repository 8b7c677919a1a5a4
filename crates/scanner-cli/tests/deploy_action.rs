//! Issue 13 item 4: the composite GitHub Action (action.yml), run here as a runner would run
//! it: each `run` step's script with bash (`--noprofile --norc -eo pipefail`, as composite
//! steps run), its `env` with every `${{ … }}` expression evaluated from the inputs, their
//! defaults, earlier steps' outputs ($GITHUB_OUTPUT) and the event; `uses` steps are
//! recorded with their evaluated `with`, not run. The scans run the binary cargo built on
//! real repositories with a really signed token committed.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_deploy;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support_deploy::{keys, read, s, seq, yaml};
use support_git::Repo;
use yaml_rust2::Yaml;

/// What one run of the action did.
#[derive(Debug, Default)]
struct Run {
    /// Names of the steps that ran (uses steps included).
    ran: Vec<String>,
    /// The step that failed and its exit code.
    failed: Option<(String, i32)>,
    /// `with` of each `uses` step that ran, by action.
    uses: BTreeMap<String, BTreeMap<String, String>>,
    /// Outputs of the steps by id.
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// stdout and stderr of the scripts.
    log: String,
}

/// Every `${{ inputs.X }}` (and `inputs.X` inside other expressions) named in `text`.
fn inputs_named(text: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for piece in text.split("inputs.").skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        named.insert(name);
    }
    named
}

/// The action's input defaults.
fn defaults(action: &Yaml) -> BTreeMap<String, String> {
    keys(&action["inputs"], "inputs")
        .into_iter()
        .map(|k| {
            let d = action["inputs"][k.as_str()]["default"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            (k, d)
        })
        .collect()
}

/// Evaluates one `${{ }}` expression of the forms action.yml uses.
fn eval(
    expr: &str,
    inputs: &BTreeMap<String, String>,
    ctx: &BTreeMap<&str, String>,
    run: &Run,
) -> String {
    let expr = expr.trim();
    if let Some(name) = expr.strip_prefix("inputs.") {
        return inputs
            .get(name)
            .unwrap_or_else(|| panic!("undeclared input {name}"))
            .clone();
    }
    if let Some(rest) = expr.strip_prefix("steps.") {
        let (id, out) = rest.split_once(".outputs.").expect("steps.ID.outputs.NAME");
        return run
            .outputs
            .get(id)
            .and_then(|o| o.get(out))
            .cloned()
            .unwrap_or_default();
    }
    if let Some(rest) = expr.strip_prefix("runner.temp") {
        return format!("{}{rest}", ctx["runner.temp"]);
    }
    ctx.get(expr)
        .cloned()
        .unwrap_or_else(|| panic!("the test knows no value for `{expr}`"))
}

/// A string with its `${{ }}` expressions evaluated.
fn subst(
    text: &str,
    inputs: &BTreeMap<String, String>,
    ctx: &BTreeMap<&str, String>,
    run: &Run,
) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${{") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find("}}").expect("unclosed ${{") + at;
        out.push_str(&eval(&rest[at + 3..end], inputs, ctx, run));
        rest = &rest[end + 2..];
    }
    out + rest
}

/// A step's `if:`: absent, or `inputs.X == 'v'`.
fn condition(step: &Yaml, inputs: &BTreeMap<String, String>) -> bool {
    let Some(cond) = step["if"].as_str() else {
        return true;
    };
    let (lhs, rhs) = cond
        .split_once(" == ")
        .unwrap_or_else(|| panic!("the test cannot evaluate `if: {cond}`"));
    inputs[lhs.trim().strip_prefix("inputs.").unwrap()] == rhs.trim().trim_matches('\'')
}

/// Runs action.yml with these inputs (over the defaults) and event context in `workspace`.
fn run_action(workspace: &Path, given: &[(&str, &str)], event: &[(&'static str, String)]) -> Run {
    let action = yaml("action.yml");
    let mut inputs = defaults(&action);
    for (k, v) in given {
        assert!(inputs.contains_key(*k), "{k} is no input");
        inputs.insert((*k).into(), (*v).into());
    }
    let temp = tempfile::tempdir().unwrap();
    let mut ctx: BTreeMap<&str, String> = event.iter().cloned().collect();
    ctx.insert(
        "github.action_path",
        support_deploy::root().display().to_string(),
    );
    ctx.insert("runner.temp", temp.path().display().to_string());
    for k in [
        "github.event_name",
        "github.event.pull_request.base.sha",
        "github.event.pull_request.head.sha",
    ] {
        ctx.entry(k).or_default();
    }
    assert_eq!(s(&action["runs"]["using"], "using"), "composite");
    let mut run = Run::default();
    for step in seq(&action["runs"]["steps"], "steps") {
        let name = s(&step["name"], "name").to_owned();
        if run.failed.is_some() || !condition(step, &inputs) {
            continue;
        }
        run.ran.push(name.clone());
        if let Some(uses) = step["uses"].as_str() {
            let with = keys(&step["with"], "with")
                .into_iter()
                .map(|k| {
                    let v = subst(s(&step["with"][k.as_str()], "with"), &inputs, &ctx, &run);
                    (k, v)
                })
                .collect();
            run.uses.insert(uses.to_owned(), with);
            continue;
        }
        assert_eq!(s(&step["shell"], "shell"), "bash", "{name}");
        let script = s(&step["run"], "run");
        assert!(
            !script.contains("${{"),
            "{name}: expressions belong in env, not in the script"
        );
        let output = temp.path().join(format!("output-{}", run.ran.len()));
        std::fs::write(&output, "").unwrap();
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(workspace)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_ACTION_PATH", &ctx["github.action_path"])
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        for k in keys(&step["env"], "env") {
            cmd.env(
                &k,
                subst(s(&step["env"][k.as_str()], "env"), &inputs, &ctx, &run),
            );
        }
        let out = cmd.output().unwrap();
        run.log += &String::from_utf8_lossy(&out.stdout);
        run.log += &String::from_utf8_lossy(&out.stderr);
        let outputs = std::fs::read_to_string(&output)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        if let Some(id) = step["id"].as_str() {
            run.outputs.insert(id.to_owned(), outputs);
        }
        if !out.status.success() {
            run.failed = Some((name, out.status.code().unwrap_or(-1)));
        }
    }
    run
}

/// A repository with a legacy service-account token committed in its second commit, the
/// token removed again in the third; the commits' ids.
fn leaky_repo() -> (Repo, [String; 3]) {
    let r = Repo::new();
    r.write("README.md", "# app\n");
    let c0 = r.commit("init");
    let tok = common::legacy_token("prod", "deployer", "deployer-token-x7k2p");
    r.write("deploy/ci.env", &format!("# CI\nKUBE_TOKEN={tok}\n"));
    let c1 = r.commit("ci env");
    r.write("deploy/ci.env", "# CI\nKUBE_TOKEN=${KUBE_TOKEN}\n");
    let c2 = r.commit("use the CI variable");
    (r, [c0, c1, c2])
}

/// The SARIF results in `file`, after checking the document against the schema.
fn sarif_results(file: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["runs"][0]["tool"]["driver"]["name"], "leakscan");
    support_deploy::assert_valid_sarif(&doc);
    doc["runs"][0]["results"].as_array().unwrap().clone()
}

const BIN: &str = env!("CARGO_BIN_EXE_leakscan");
const UPLOAD: &str = "github/codeql-action/upload-sarif@v3";

#[test]
fn every_input_is_declared_and_used() {
    let text = read("action.yml");
    let action = yaml("action.yml");
    let declared: BTreeSet<String> = keys(&action["inputs"], "inputs").into_iter().collect();
    let runs = text.split("\nruns:").nth(1).expect("runs:");
    assert_eq!(
        inputs_named(&text),
        declared,
        "inputs named anywhere = inputs declared"
    );
    assert_eq!(
        inputs_named(runs),
        declared,
        "every input is used by a step"
    );
    for k in &declared {
        assert!(
            action["inputs"][k.as_str()]["description"]
                .as_str()
                .is_some(),
            "{k}"
        );
    }
    for o in keys(&action["outputs"], "outputs") {
        let v = s(&action["outputs"][o.as_str()]["value"], "value");
        let id = v.split("steps.").nth(1).unwrap().split('.').next().unwrap();
        assert!(
            runs.contains(&format!("id: {id}\n")),
            "output {o} names step {id}"
        );
    }
}

#[test]
fn a_push_scan_writes_the_sarif_where_sarif_file_says_uploads_it_and_fails() {
    let (repo, _) = leaky_repo();
    let run = run_action(
        repo.path(),
        &[("leakscan", BIN)],
        &[("github.event_name", "push".into())],
    );
    // The report exists before the verdict fails the job, and was handed to the upload.
    assert_eq!(run.failed, Some(("Verdict".into(), 1)), "{}", run.log);
    assert_eq!(
        run.ran,
        [
            "Install leakscan",
            "Scan git history",
            "Upload to code scanning",
            "Verdict"
        ]
    );
    assert_eq!(run.uses[UPLOAD]["sarif_file"], "leakscan.sarif");
    assert_eq!(run.uses[UPLOAD]["category"], "leakscan");
    assert_eq!(run.outputs["scan"]["exit-code"], "1");
    let results = sarif_results(&repo.join("leakscan.sarif"));
    assert_eq!(results.len(), 1, "{results:?}");
    let r = &results[0];
    assert_eq!(r["ruleId"], "k8s-sa-token-legacy");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "deploy/ci.env");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 12);
    assert!(!std::fs::read_to_string(repo.join("leakscan.sarif"))
        .unwrap()
        .contains(&common::legacy_token(
            "prod",
            "deployer",
            "deployer-token-x7k2p"
        )));
}

#[test]
fn fail_on_findings_false_reports_without_failing() {
    let (repo, _) = leaky_repo();
    let run = run_action(
        repo.path(),
        &[
            ("leakscan", BIN),
            ("fail-on-findings", "false"),
            ("sarif-file", "out/leaks.sarif"),
            ("category", "secrets"),
        ],
        &[("github.event_name", "push".into())],
    );
    assert_eq!(run.failed, None, "{}", run.log);
    assert!(run.log.contains("fail-on-findings is off"), "{}", run.log);
    assert_eq!(run.uses[UPLOAD]["sarif_file"], "out/leaks.sarif");
    assert_eq!(run.uses[UPLOAD]["category"], "secrets");
    assert_eq!(
        sarif_results(&repo.join("out/leaks.sarif"))[0]["ruleId"],
        "k8s-sa-token-legacy"
    );
    assert!(!repo.join("leakscan.sarif").exists());
}

#[test]
fn a_pull_request_scans_only_its_commits_and_since_only_later_ones() {
    let (repo, [c0, c1, c2]) = leaky_repo();
    let pr = |base: &str| {
        vec![
            ("github.event_name", "pull_request".to_owned()),
            ("github.event.pull_request.base.sha", base.to_owned()),
            ("github.event.pull_request.head.sha", c2.clone()),
        ]
    };
    // Base after the leak: the PR's commit removes the token, nothing found, the check passes.
    let run = run_action(repo.path(), &[("leakscan", BIN)], &pr(&c1));
    assert_eq!(run.failed, None, "{}", run.log);
    assert_eq!(run.outputs["scan"]["exit-code"], "0");
    assert!(sarif_results(&repo.join("leakscan.sarif")).is_empty());
    // Base before it: the leaking commit is in the PR.
    let run = run_action(repo.path(), &[("leakscan", BIN)], &pr(&c0));
    assert_eq!(run.failed, Some(("Verdict".into(), 1)), "{}", run.log);
    let results = sarif_results(&repo.join("leakscan.sarif"));
    assert_eq!(results[0]["properties"]["commit"], c1.as_str());
    // `since` wins over the event: after c1, nothing; after c0, the leak.
    let run = run_action(repo.path(), &[("leakscan", BIN), ("since", &c1)], &pr(&c0));
    assert_eq!(run.outputs["scan"]["exit-code"], "0", "{}", run.log);
    let run = run_action(
        repo.path(),
        &[("leakscan", BIN), ("since", &c0)],
        &[("github.event_name", "push".into())],
    );
    assert_eq!(run.outputs["scan"]["exit-code"], "1", "{}", run.log);
}

#[test]
fn args_format_and_upload_sarif_reach_leakscan() {
    let (repo, _) = leaky_repo();
    let push = [("github.event_name", "push".to_owned())];
    // Extra args: a critical legacy token is still reported at --min-severity critical ...
    let run = run_action(
        repo.path(),
        &[
            ("leakscan", BIN),
            ("args", "--min-severity critical  --threads 1"),
        ],
        &push,
    );
    assert_eq!(run.outputs["scan"]["exit-code"], "1", "{}", run.log);
    // ... and a baseline of it suppresses it.
    let base = repo.path().join("base.json");
    let out = Command::new(BIN)
        .args(["baseline", "create", "--git", "."])
        .arg("--output")
        .arg(&base)
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = run_action(
        repo.path(),
        &[("leakscan", BIN), ("args", "--baseline base.json")],
        &push,
    );
    assert_eq!(run.failed, None, "{}", run.log);
    assert_eq!(run.outputs["scan"]["exit-code"], "0");

    // format json cannot be uploaded: refused before scanning, nothing uploaded.
    let run = run_action(
        repo.path(),
        &[
            ("leakscan", BIN),
            ("format", "json"),
            ("sarif-file", "r.json"),
        ],
        &push,
    );
    assert_eq!(
        run.failed,
        Some(("Scan git history".into(), 2)),
        "{}",
        run.log
    );
    assert!(run.log.contains("upload-sarif needs format: sarif"));
    assert!(!run.uses.contains_key(UPLOAD));
    // Without the upload, a JSON report.
    let run = run_action(
        repo.path(),
        &[
            ("leakscan", BIN),
            ("format", "json"),
            ("sarif-file", "r.json"),
            ("upload-sarif", "false"),
        ],
        &push,
    );
    assert_eq!(
        run.ran,
        ["Install leakscan", "Scan git history", "Verdict"],
        "{}",
        run.log
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join("r.json")).unwrap()).unwrap();
    assert_eq!(doc["findings"][0]["rule_id"], "k8s-sa-token-legacy");
    assert_eq!(doc["findings"][0]["line"], 2);
}

#[test]
fn a_fatal_error_fails_the_scan_step_and_skips_the_upload() {
    let (repo, _) = leaky_repo();
    let run = run_action(
        repo.path(),
        &[("leakscan", BIN), ("path", "no/such/repo")],
        &[("github.event_name", "push".into())],
    );
    assert_eq!(
        run.failed,
        Some(("Scan git history".into(), 2)),
        "{}",
        run.log
    );
    assert_eq!(run.ran, ["Install leakscan", "Scan git history"]);
    assert!(run.log.contains("leakscan failed (exit 2)"), "{}", run.log);
}

#[test]
fn the_example_workflow_passes_only_declared_inputs() {
    let declared: BTreeSet<String> = keys(&yaml("action.yml")["inputs"], "inputs")
        .into_iter()
        .collect();
    let wf = yaml("deploy/github/pull-request.yml");
    let steps = seq(&wf["jobs"]["leakscan"]["steps"], "steps");
    let uses = steps
        .iter()
        .find(|st| {
            st["uses"]
                .as_str()
                .is_some_and(|u| u.contains("/leakscan@"))
        })
        .expect("the workflow uses the action");
    for k in keys(&uses["with"], "with") {
        assert!(declared.contains(&k), "{k} is not an input of action.yml");
    }
    let checkout = steps
        .iter()
        .find(|st| {
            st["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
        })
        .unwrap();
    assert_eq!(
        checkout["with"]["fetch-depth"].as_i64(),
        Some(0),
        "history is what is scanned"
    );
    assert_eq!(
        s(&wf["permissions"]["security-events"], "permissions"),
        "write"
    );
}
