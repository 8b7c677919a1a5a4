//! Issue 13 item 4: deploy/kubernetes and the Dockerfile. The manifests are validated against
//! the Kubernetes OpenAPI schemas (kubernetes-validate, installed by .ci/run), their facts are
//! checked against each other (shards, mounts, identity, the image's user), and the Indexed
//! Job's and the merge Job's exact command lines are run on real repositories, one process
//! per completion index, as the pods would run them. No cluster is involved.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_deploy;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use support_deploy::{keys, read, s, seq, strings, yaml, Fleet};
use yaml_rust2::Yaml;

const DIR: &str = "deploy/kubernetes";

/// Every manifest of deploy/kubernetes by file name.
fn manifests() -> BTreeMap<String, Yaml> {
    let mut all = BTreeMap::new();
    for e in std::fs::read_dir(support_deploy::root().join(DIR)).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".yaml") {
            all.insert(name.clone(), yaml(&format!("{DIR}/{name}")));
        }
    }
    assert!(all.len() >= 7, "{:?}", all.keys());
    all
}

/// The one manifest of this kind and name.
fn find<'a>(all: &'a BTreeMap<String, Yaml>, kind: &str, name: &str) -> &'a Yaml {
    let hits: Vec<&Yaml> = all
        .values()
        .filter(|m| {
            m["kind"].as_str() == Some(kind) && m["metadata"]["name"].as_str() == Some(name)
        })
        .collect();
    assert_eq!(hits.len(), 1, "{kind}/{name}");
    hits[0]
}

/// kubernetes-validate, or None (skipped loudly; a failure under CI, where .ci/run installs it).
fn kubernetes_validate() -> Option<Command> {
    let ok = Command::new("kubernetes-validate")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(
            !ci,
            "kubernetes-validate is missing (python3 -m pip install kubernetes-validate)"
        );
        eprintln!(
            "SKIPPING the Kubernetes schema check: kubernetes-validate is not installed \
             (python3 -m pip install kubernetes-validate)"
        );
        return None;
    }
    Some(Command::new("kubernetes-validate"))
}

#[test]
fn every_manifest_validates_against_the_kubernetes_schemas() {
    let Some(mut cmd) = kubernetes_validate() else {
        return;
    };
    let dir = support_deploy::root().join(DIR);
    let files: Vec<PathBuf> = manifests().keys().map(|n| dir.join(n)).collect();
    let out = cmd
        .args(["--strict", "--no-warn"])
        .args(&files)
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{log}");
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(
            log.contains(&format!("{name} passed")),
            "{name} not validated:\n{log}"
        );
    }

    // The validator does reject: a misspelt field and a wrong type in the shipped Job.
    let tmp = tempfile::tempdir().unwrap();
    let job = read(&format!("{DIR}/job-scan.yaml"));
    for (from, to) in [
        ("  parallelism: 4", "  parallelizm: 4"),
        ("  completions: 4", "  completions: four"),
    ] {
        assert!(job.contains(from));
        let bad = tmp.path().join("job.yaml");
        std::fs::write(&bad, job.replacen(from, to, 1)).unwrap();
        let out = Command::new("kubernetes-validate")
            .args(["--strict", "--no-warn"])
            .arg(&bad)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{to} was accepted");
    }
}

/// The N of `--shard k8s-job/N` in a container's args.
fn shards_of(args: &[String]) -> i64 {
    let at = args.iter().position(|a| a == "--shard").expect("--shard");
    let spec = &args[at + 1];
    spec.strip_prefix("k8s-job/")
        .expect("k8s-job/N")
        .parse()
        .unwrap()
}

/// The value following `flag` in args.
fn arg_after<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("{flag} missing"));
    &args[at + 1]
}

/// The volume mounted at the longest mount path that holds `path`, and the rest of the path.
fn volume_for<'a>(pod: &'a Yaml, container: &Yaml, path: &str) -> (&'a Yaml, String) {
    let mount = seq(&container["volumeMounts"], "volumeMounts")
        .iter()
        .filter(|m| path.starts_with(&format!("{}/", s(&m["mountPath"], "mountPath"))))
        .max_by_key(|m| s(&m["mountPath"], "mountPath").len())
        .unwrap_or_else(|| panic!("{path} is on no mounted volume"));
    let rest = path[s(&mount["mountPath"], "mountPath").len() + 1..].to_owned();
    let name = s(&mount["name"], "name");
    let vol = seq(&pod["volumes"], "volumes")
        .iter()
        .find(|v| v["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("volume {name} not declared"));
    (vol, rest)
}

/// The env value of a container.
fn env<'a>(container: &'a Yaml, name: &str) -> &'a Yaml {
    seq(&container["env"], "env")
        .iter()
        .find(|e| e["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("env {name} missing"))
}

#[test]
fn the_indexed_job_mounts_its_list_credentials_and_scratch_space() {
    let all = manifests();
    let job = find(&all, "Job", "leakscan-scan");
    let spec = &job["spec"];
    assert_eq!(s(&spec["completionMode"], "completionMode"), "Indexed");
    let pod = &spec["template"]["spec"];
    let c = &seq(&pod["containers"], "containers")[0];
    let args = strings(&c["args"], "args");
    assert_eq!(args[0], "git");
    let n = shards_of(&args);
    assert_eq!(
        spec["completions"].as_i64(),
        Some(n),
        "completions = the N of k8s-job/N"
    );
    let parallelism = spec["parallelism"].as_i64().unwrap();
    assert!((1..=n).contains(&parallelism));
    // backoffLimitPerIndex needs restartPolicy Never; findings must not fail a pod.
    assert_eq!(s(&pod["restartPolicy"], "restartPolicy"), "Never");
    assert_eq!(arg_after(&args, "--exit-code"), "0");
    assert_eq!(arg_after(&args, "--format"), "json");

    // --repos is the ConfigMap's key, mounted.
    let (vol, file) = volume_for(pod, c, arg_after(&args, "--repos"));
    let cm_name = s(&vol["configMap"]["name"], "configMap.name");
    let item = seq(&vol["configMap"]["items"], "items")
        .iter()
        .find(|i| i["path"].as_str() == Some(&file))
        .expect("the list's item");
    let key = s(&item["key"], "key");
    let cm = find(&all, "ConfigMap", cm_name);
    let list = s(&cm["data"][key], "the ConfigMap's list");
    assert!(list.lines().any(|l| l.starts_with("https://")), "{list}");

    // The index reaches --output through an env var the kubelet expands.
    let out = arg_after(&args, "--output");
    assert!(out.contains("$(SHARD_INDEX)"), "{out}");
    assert_eq!(
        s(
            &env(c, "SHARD_INDEX")["valueFrom"]["fieldRef"]["fieldPath"],
            "fieldPath"
        ),
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    );
    let (results, _) = volume_for(pod, c, out);
    let claim = s(&results["persistentVolumeClaim"]["claimName"], "claimName");
    let pvc = find(&all, "PersistentVolumeClaim", claim);
    assert_eq!(
        strings(&pvc["spec"]["accessModes"], "accessModes"),
        ["ReadWriteMany"]
    );

    // Clones go to an emptyDir (the root filesystem is read-only).
    for var in ["TMPDIR", "HOME"] {
        let dir = s(&env(c, var)["value"], var);
        let (vol, _) = volume_for(pod, c, &format!("{dir}/x"));
        assert!(
            !vol["emptyDir"].is_badvalue(),
            "{var}={dir} is not on an emptyDir"
        );
    }

    // git's config is the ConfigMap's, and every credential file it names is in the
    // optional Secret's mount (no credential on a command line).
    let gitconfig_path = s(&env(c, "GIT_CONFIG_GLOBAL")["value"], "GIT_CONFIG_GLOBAL");
    let (vol, file) = volume_for(pod, c, gitconfig_path);
    let gitconfig_cm = find(
        &all,
        "ConfigMap",
        s(&vol["configMap"]["name"], "configMap.name"),
    );
    let item = seq(&vol["configMap"]["items"], "items")
        .iter()
        .find(|i| i["path"].as_str() == Some(&file))
        .unwrap();
    let gitconfig = s(&gitconfig_cm["data"][s(&item["key"], "key")], "gitconfig");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("gitconfig"), gitconfig).unwrap();
    let git = |key: &str| {
        let o = Command::new("git")
            .args(["config", "--file"])
            .arg(tmp.path().join("gitconfig"))
            .args(["--get", key])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git config {key}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    };
    let helper = git("credential.helper");
    let ssh = git("core.sshCommand");
    let files: Vec<&str> = helper
        .split([' ', '='])
        .chain(ssh.split([' ', '=']))
        .filter(|w| w.starts_with('/'))
        .collect();
    assert_eq!(files.len(), 3, "{helper} / {ssh}");
    for f in files {
        let (vol, _) = volume_for(pod, c, f);
        assert_eq!(vol["secret"]["optional"].as_bool(), Some(true), "{f}");
        assert_eq!(vol["secret"]["defaultMode"].as_i64(), Some(0o440), "{f}");
    }
    for a in &args {
        assert!(
            !a.contains('@') && !a.to_lowercase().contains("token"),
            "{a}"
        );
    }
}

/// The uid of the Dockerfile's final stage (`USER uid:gid`).
fn image_uid() -> i64 {
    let dockerfile = read("Dockerfile");
    let last = dockerfile.rsplit("\nFROM ").next().unwrap();
    let user = last
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("USER");
    user.split(':')
        .next()
        .unwrap()
        .parse()
        .expect("numeric uid")
}

#[test]
fn no_pod_holds_an_api_credential_or_writes_its_root_filesystem() {
    let all = manifests();
    let sa = find(&all, "ServiceAccount", "leakscan");
    assert_eq!(sa["automountServiceAccountToken"].as_bool(), Some(false));
    for m in all.values() {
        let kind = s(&m["kind"], "kind");
        assert!(
            !kind.contains("Role"),
            "{kind}: leakscan needs no API permission"
        );
        let pod = match kind {
            "Job" => &m["spec"]["template"]["spec"],
            "Pod" => &m["spec"],
            _ => continue,
        };
        let name = s(&m["metadata"]["name"], "name");
        assert_eq!(
            s(&pod["serviceAccountName"], "serviceAccountName"),
            "leakscan",
            "{name}"
        );
        assert_eq!(
            pod["automountServiceAccountToken"].as_bool(),
            Some(false),
            "{name}"
        );
        let psc = &pod["securityContext"];
        assert_eq!(psc["runAsNonRoot"].as_bool(), Some(true), "{name}");
        assert_eq!(
            psc["runAsUser"].as_i64(),
            Some(image_uid()),
            "{name}: the image's uid"
        );
        let containers = seq(&pod["containers"], "containers")
            .iter()
            .chain(pod["initContainers"].as_vec().into_iter().flatten());
        for c in containers {
            let sc = &c["securityContext"];
            assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true), "{name}");
            assert_eq!(
                sc["allowPrivilegeEscalation"].as_bool(),
                Some(false),
                "{name}"
            );
            assert_eq!(
                strings(&sc["capabilities"]["drop"], "drop"),
                ["ALL"],
                "{name}"
            );
            assert!(!c["resources"]["limits"]["memory"].is_badvalue(), "{name}");
        }
    }
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_leakscan_unprivileged_in_another() {
    // Not built here (no registry for base images on this machine): its facts are checked.
    let text = read("Dockerfile");
    let stages: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("FROM "))
        .map(|l| {
            let (image, name) = l.split_once(" AS ").expect("every stage is named");
            (image.trim(), name.trim())
        })
        .collect();
    assert_eq!(stages[0].1, "builder");
    assert!(stages[0].0.starts_with("rust:"), "{stages:?}");
    assert_eq!(
        stages.last().unwrap().1,
        "runtime",
        "the default target has git"
    );
    let rust: &str = text
        .lines()
        .find_map(|l| l.strip_prefix("ARG RUST_VERSION="))
        .unwrap();
    assert!(
        read("Cargo.toml").contains(&format!("rust-version = \"{rust}\"")),
        "{rust}"
    );
    assert!(text.contains("cargo build --release --locked -p scanner-cli --bin leakscan"));
    for stage in text.split("\nFROM ").skip(2) {
        let name = stage.lines().next().unwrap();
        assert!(
            stage.contains("COPY --from=builder /out/leakscan /usr/local/bin/leakscan"),
            "{name}"
        );
        let user = stage
            .lines()
            .find_map(|l| l.strip_prefix("USER "))
            .expect(name);
        assert!(
            user.split(':')
                .all(|id| id.parse::<u32>().is_ok_and(|n| n > 0)),
            "{name}: {user}"
        );
        let entry = stage
            .lines()
            .find_map(|l| l.strip_prefix("ENTRYPOINT "))
            .expect(name);
        let entry: Vec<String> = serde_json::from_str(entry).expect("exec form, no shell");
        assert_eq!(entry, ["/usr/local/bin/leakscan"], "{name}");
    }
    let runtime = text.rsplit("\nFROM ").next().unwrap();
    let install = runtime
        .split("apt-get install")
        .nth(1)
        .expect("apt-get install");
    for pkg in ["git", "openssh-client", "ca-certificates"] {
        assert!(
            install.split_whitespace().take(12).any(|w| w == pkg),
            "{pkg} not installed"
        );
    }
    let ignore = read(".dockerignore");
    assert!(
        ignore.lines().any(|l| l == "target/"),
        "the build context leaves target/ out"
    );
}

/// A container's args as its pod would run them here: paths under the manifest's mounts
/// moved into `to`, $(SHARD_INDEX) expanded.
fn localised(args: &[String], index: usize, to: &[(&str, &Path)]) -> Vec<String> {
    args.iter()
        .map(|a| {
            let mut a = a.replace("$(SHARD_INDEX)", &index.to_string());
            for (from, dir) in to {
                if let Some(rest) = a.strip_prefix(from) {
                    a = format!("{}{rest}", dir.display());
                }
            }
            a
        })
        .collect()
}

#[test]
fn the_jobs_command_lines_scan_every_repository_once_and_merge_the_shards() {
    let all = manifests();
    let scan_pod = &find(&all, "Job", "leakscan-scan")["spec"]["template"]["spec"];
    let args = strings(
        &seq(&scan_pod["containers"], "containers")[0]["args"],
        "args",
    );
    let n = shards_of(&args) as usize;
    let fleet = Fleet::new(7);
    let results = fleet.path("results");
    let tmp = fleet.path("tmp");
    std::fs::create_dir_all(&results).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let repos_mount = Path::new(arg_after(&args, "--repos"))
        .parent()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let list_dir = fleet.list().parent().unwrap().to_owned();
    let moves: [(&str, &Path); 2] = [(&repos_mount, &list_dir), ("/results", &results)];
    let mut taken = 0;
    for i in 0..n {
        let out = Command::new(env!("CARGO_BIN_EXE_leakscan"))
            .args(localised(&args, i, &moves))
            .env("JOB_COMPLETION_INDEX", i.to_string())
            .env("HOME", &tmp)
            .env("TMPDIR", &tmp)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "index {i}: {err}");
        let line = err
            .lines()
            .find_map(|l| l.strip_prefix(&format!("leakscan: shard {i}/{n}: ")))
            .unwrap_or_else(|| panic!("{err}"));
        taken += line.split(' ').next().unwrap().parse::<usize>().unwrap();
    }
    assert_eq!(taken, fleet.repos.len());
    let shard_files: Vec<PathBuf> = (0..n)
        .map(|i| results.join(format!("shard-{i}.json")))
        .collect();
    support_deploy::assert_shards_cover(&fleet, &shard_files);

    // The merge Job reads exactly those files.
    let merge_pod = &find(&all, "Job", "leakscan-merge")["spec"]["template"]["spec"];
    let steps: Vec<Vec<String>> = seq(&merge_pod["initContainers"], "initContainers")
        .iter()
        .chain(seq(&merge_pod["containers"], "containers"))
        .map(|c| strings(&c["args"], "args"))
        .collect();
    let expected: Vec<String> = (0..n).map(|i| format!("/results/shard-{i}.json")).collect();
    for step in &steps {
        assert_eq!(step[0], "merge");
        assert_eq!(step[1..=n], expected[..], "the merge lists every shard");
        assert_eq!(arg_after(step, "--exit-code"), "0");
    }
    for step in &steps {
        let out = Command::new(env!("CARGO_BIN_EXE_leakscan"))
            .args(localised(step, 0, &moves))
            .env("HOME", &tmp)
            .env("TMPDIR", &tmp)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{step:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    support_deploy::assert_shards_cover(&fleet, &[results.join("leakscan.json")]);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("leakscan.sarif")).unwrap())
            .unwrap();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        fleet.repos.len()
    );
    support_deploy::assert_valid_sarif(&sarif);
    // A missing shard report fails the merge instead of shrinking it.
    std::fs::remove_file(&shard_files[n - 1]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_leakscan"))
        .args(localised(&steps[0], 0, &moves))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_repository_list_configmap_has_the_key_the_readme_creates() {
    let all = manifests();
    let cm = find(&all, "ConfigMap", "leakscan-repos");
    assert_eq!(keys(&cm["data"], "data"), ["repos.txt"]);
    assert!(read("README.md")
        .contains("kubectl create configmap leakscan-repos --from-file=repos.txt="));
}
