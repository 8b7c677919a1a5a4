//! Issue 13 items 1-3 together: an organisation of 52 repositories (half given as clone
//! URLs) scanned in four shards, the shard reports merged, and the merge compared with one
//! unsharded run — the same findings, one credential for a token committed in three
//! repositories, stats that add up, SARIF valid against the official schema, and reports
//! of another version or configuration refused.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support_cli::{leakscan_bounded, stderr};

const REPOS: usize = 52;
/// Entries in the list: the repositories and two broken ones.
const ENTRIES: usize = REPOS + 2;
const SHARDS: usize = 4;
const NOW: &str = "2025-06-01T00:00:00Z";
const LIMIT: Duration = Duration::from_secs(120);

/// Repositories that hold the one token committed three times.
const SHARED_IN: [usize; 3] = [3, 17, 40];

/// Files per commit: `(path, content)`.
type Tree = Vec<(String, String)>;

/// A bare repository made by `git fast-import` from `commits` (one process per repository,
/// so fifty of them take well under a second).
fn import(dir: &Path, commits: &[(&str, Tree)]) {
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q", "--bare", "-b", "main", dir.to_str().unwrap()]);
    let mut stream = String::new();
    for (i, (msg, files)) in commits.iter().enumerate() {
        let t = 1_700_000_000 + 3600 * i as i64;
        stream.push_str(&format!(
            "commit refs/heads/main\nauthor Alice Example <alice@example.com> {t} +0000\n\
             committer Alice Example <alice@example.com> {t} +0000\ndata {}\n{msg}\n",
            msg.len()
        ));
        for (path, content) in files {
            stream.push_str(&format!(
                "M 100644 inline {path}\ndata {}\n{content}\n",
                content.len()
            ));
        }
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .env("GIT_DIR", dir)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The organisation: every repository has two commits; some hold credentials.
struct Org {
    _dir: tempfile::TempDir,
    root: PathBuf,
    list: PathBuf,
    shared: String,
    /// The entries that cannot be scanned.
    broken: [String; 2],
}

fn org() -> Org {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let shared = common::legacy_token("platform", "deployer", "deployer-token-shared");
    let mut entries = Vec::new();
    for i in 0..REPOS {
        let name = format!("svc-{i:02}.git");
        let mut first: Tree = vec![("README.md".into(), format!("service {i}\n"))];
        if SHARED_IN.contains(&i) {
            // The same file in each: one fingerprint, three repositories.
            first.push((
                "deploy/env.sh".into(),
                format!("export KUBE_TOKEN={shared}\n"),
            ));
        }
        if i % 5 == 0 {
            let own = common::legacy_token(&format!("team-{i}"), "ci", &format!("ci-token-{i:05}"));
            first.push(("ci/token.env".into(), format!("# ci\nTOKEN={own}\n")));
        }
        if i % 7 == 0 {
            let bound = common::bound_token(
                "web",
                "frontend",
                &format!("web-{i}"),
                "https://oidc.example",
                1_760_000_000,
                3600,
            );
            first.push((
                "logs/debug.log".into(),
                format!("GET /api\nAuthorization: Bearer {bound}\n"),
            ));
        }
        if i % 11 == 0 {
            first.push((
                "kube/ops.kubeconfig".into(),
                format!(
                    "apiVersion: v1\nkind: Config\nusers:\n- name: ops\n  user:\n    token: \
                     8d4f1c7a9e2b6f3d0a5c8e1b7f4d{i:04}\n"
                ),
            ));
        }
        let second: Tree = vec![("README.md".into(), format!("service {i}, v2\n"))];
        let path = root.join(&name);
        import(&path, &[("init", first), ("docs", second)]);
        // Half of them as clone URLs, as an organisation's list would have them.
        entries.push(if i % 2 == 0 {
            format!("file://{}", path.display())
        } else {
            path.display().to_string()
        });
    }
    // Two that cannot be scanned: a repository whose pack is garbage, and a URL nobody
    // answers. Each is one error entry; the others are scanned.
    let corrupt = root.join("svc-corrupt.git");
    import(&corrupt, &[("init", vec![("a.txt".into(), "x\n".into())])]);
    // fast-import writes so few objects loose; each becomes bytes that are not zlib.
    let mut damaged = 0;
    let mut dirs = vec![corrupt.join("objects")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                use std::os::unix::fs::PermissionsExt;
                let writable = std::fs::Permissions::from_mode(0o644);
                std::fs::set_permissions(&p, writable).unwrap();
                std::fs::write(&p, b"not an object").unwrap();
                damaged += 1;
            }
        }
    }
    assert!(damaged >= 3, "commit, tree and blob damaged");
    let unreachable = format!("file://{}/gone/svc-gone.git", root.display());
    entries.push(corrupt.display().to_string());
    entries.push(unreachable.clone());
    let list = root.join("repos.txt");
    std::fs::write(
        &list,
        format!("# the organisation\n{}\n", entries.join("\n")),
    )
    .unwrap();
    Org {
        _dir: dir,
        root,
        list,
        shared,
        broken: [corrupt.display().to_string(), unreachable],
    }
}

fn run(dir: &Path, args: &[&str]) -> Output {
    leakscan_bounded(dir, args, &[("TMPDIR", dir.to_str().unwrap())], LIMIT)
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Every finding as the user compares them: repository, fingerprint, path, line, commit.
fn located(doc: &Value) -> Vec<(String, String, String, u64, String)> {
    let mut v: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["repository"].as_str().unwrap().to_owned(),
                f["fingerprint"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["git"]["commit"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn four_shards_merged_are_one_unsharded_run() {
    let started = Instant::now();
    let org = org();
    let built = started.elapsed();
    let dir = org.root.as_path();
    let list = org.list.to_str().unwrap();
    let scan = |extra: &[&str], out: &str| {
        let mut args = vec![
            "git", "--repos", list, "--now", NOW, "-f", "json", "-o", out,
        ];
        args.extend_from_slice(extra);
        let o = run(dir, &args);
        assert!(dir.join(out).is_file(), "{}", stderr(&o));
        o
    };
    let mut taken = 0;
    let mut shards = Vec::new();
    for i in 0..SHARDS {
        let spec = format!("{i}/{SHARDS}");
        let out = format!("shard-{i}.json");
        let o = scan(&["--shard", &spec], &out);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let err = stderr(&o);
        let line = err.lines().find(|l| l.contains("repositories")).unwrap();
        let k: usize = line
            .split(": ")
            .nth(2)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            line.ends_with(&format!("of {ENTRIES} repositories")),
            "{line}"
        );
        taken += k;
        shards.push(out);
    }
    assert_eq!(taken, ENTRIES, "every repository in exactly one shard");
    scan(&[], "all.json");
    let scanned = started.elapsed() - built;

    let mut merge_args = vec!["merge", "-f", "json", "-o", "merged.json"];
    merge_args.extend(shards.iter().map(String::as_str));
    let o = run(dir, &merge_args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("merged {SHARDS} reports")),
        "{}",
        stderr(&o)
    );
    let (merged, all) = (read(&dir.join("merged.json")), read(&dir.join("all.json")));
    assert_eq!(located(&merged), located(&all));
    let n = all["findings"].as_array().unwrap().len();
    let own: usize = (0..REPOS)
        .map(|i| [5, 7, 11].iter().filter(|&&m| i % m == 0).count())
        .sum();
    let expected = SHARED_IN.len() + own;
    assert_eq!(n, expected, "one finding per credential file");
    for key in [
        "files",
        "bytes",
        "commits",
        "findings",
        "credentials",
        "skipped",
        "incomplete",
    ] {
        assert_eq!(merged["stats"][key], all["stats"][key], "stats.{key}");
    }
    assert_eq!(all["stats"]["commits"], 2 * REPOS as u64);
    let sum = |key: &str| -> u64 {
        shards
            .iter()
            .map(|s| read(&dir.join(s))["stats"][key].as_u64().unwrap())
            .sum()
    };
    assert_eq!(merged["stats"]["files"].as_u64(), Some(sum("files")));
    assert_eq!(
        merged["stats"]["credentials"].as_u64(),
        Some(n as u64 - 2),
        "the shared token is one"
    );
    // Every shard's errors are kept: one repository-error per broken entry, each in
    // exactly one shard, and the merged report is incomplete as the one run is.
    assert_eq!(merged["errors"], all["errors"]);
    let errors: Vec<(&str, &str)> = merged["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    let errors_of = |repo: &str| -> Vec<&str> {
        merged["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["repository"] == repo)
            .map(|e| e["kind"].as_str().unwrap())
            .collect()
    };
    // The damaged repository: its commit cannot be read (by every ref that names it).
    let damaged = errors_of(&org.broken[0]);
    assert!(
        !damaged.is_empty() && damaged.iter().all(|k| *k == "corrupt-object"),
        "{errors:?}"
    );
    assert_eq!(errors_of(&org.broken[1]), ["repository-error"]);
    assert_eq!(errors.len(), damaged.len() + 1, "{errors:?}");
    let in_shards: usize = shards
        .iter()
        .map(|s| read(&dir.join(s))["errors"].as_array().unwrap().len())
        .sum();
    assert_eq!(errors.len(), in_shards, "{errors:?}");
    assert_eq!(merged["stats"]["complete"], false);
    assert_eq!(merged["config_digest"], all["config_digest"]);
    assert!(!std::fs::read_to_string(dir.join("merged.json"))
        .unwrap()
        .contains(&org.shared));

    // The shared token: one credential, three repositories, in JSON and in the text report.
    let mut repos_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for f in merged["findings"].as_array().unwrap() {
        repos_of
            .entry(f["credential_id"].as_str().unwrap())
            .or_default()
            .insert(f["repository"].as_str().unwrap());
    }
    let shared: Vec<(&&str, &BTreeSet<&str>)> =
        repos_of.iter().filter(|(_, r)| r.len() > 1).collect();
    assert_eq!(shared.len(), 1, "{repos_of:?}");
    let (id, repos) = shared[0];
    let prints: BTreeSet<&str> = merged["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["credential_id"] == *id)
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(
        prints.len(),
        1,
        "same rule, secret and path: one fingerprint"
    );
    let want: BTreeSet<String> = SHARED_IN
        .iter()
        .map(|i| format!("svc-{i:02}.git"))
        .collect();
    let got: BTreeSet<String> = repos
        .iter()
        .map(|r| r.rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(got, want);
    let mut text_args = vec!["merge", "-f", "text", "--color", "never"];
    text_args.extend(shards.iter().map(String::as_str));
    let text = String::from_utf8(run(dir, &text_args).stdout).unwrap();
    assert!(
        text.contains(&format!("credential {id}: 3 locations in 3 repositories")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} credentials in {n} locations", n - 2)),
        "{text}"
    );

    // SARIF from the merged shards, against the official schema.
    let mut sarif_args = vec!["merge", "-f", "sarif", "-o", "merged.sarif"];
    sarif_args.extend(shards.iter().map(String::as_str));
    assert_eq!(run(dir, &sarif_args).status.code(), Some(1));
    let sarif = read(&dir.join("merged.sarif"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), n);
    let in_repos: BTreeSet<&str> = results
        .iter()
        .map(|r| r["properties"]["repository"].as_str().unwrap())
        .collect();
    let json_repos: BTreeSet<&str> = merged["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["repository"].as_str().unwrap())
        .collect();
    assert_eq!(in_repos, json_repos, "each result names its repository");
    if let Some(schema) = common::thirdparty("sarif-schema-2.1.0.json") {
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(schema).unwrap()).unwrap();
        let validator = jsonschema::draft4::new(&schema).expect("schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "SARIF schema violations:\n{}",
            errors.join("\n")
        );
    }
    eprintln!(
        "fleet: {REPOS} repositories built in {:.2}s; {SHARDS} shards + 1 full run scanned in {:.2}s",
        built.as_secs_f64(),
        scanned.as_secs_f64()
    );

    // A shard scanned with other options, or by another leakscan, is refused by name.
    scan(
        &["--shard", "1/4", "--min-severity", "high"],
        "strict-1.json",
    );
    let o = run(
        dir,
        &[
            "merge",
            "-f",
            "json",
            &shards[0],
            "strict-1.json",
            &shards[2],
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("strict-1.json was scanned with another configuration than shard-0.json"),
        "{err}"
    );
    let mut old = read(&dir.join(&shards[3]));
    old["tool"]["version"] = "0.0.9".into();
    std::fs::write(dir.join("old-3.json"), serde_json::to_vec(&old).unwrap()).unwrap();
    let o = run(dir, &["merge", &shards[0], "old-3.json"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("old-3.json was written by leakscan 0.0.9 but shard-0.json by leakscan"),
        "{err}"
    );
    // No clone is left behind in TMPDIR.
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("leakscan-clone-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
