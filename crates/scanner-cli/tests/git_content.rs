//! Committed blobs go through the same content layer as files: a zip, a gzip'd log or a
//! UTF-16 file in history is opened, and its findings carry the introducing commit and the
//! member path (`blob!/member`).

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;

use std::io::Write;

use serde_json::Value;
use support_cli::leakscan;
use support_git::Repo;

/// Runs `leakscan git REPO ARGS --format json` and returns (exit code, report).
fn git_json(repo: &Repo, extra: &[&str]) -> (i32, Value) {
    let path = repo.path().to_str().expect("utf-8 temp path");
    let mut args = vec!["git", path, "--format", "json", "--no-progress"];
    args.extend_from_slice(extra);
    let out = leakscan(&args);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code().unwrap_or(-1), doc)
}

fn findings(doc: &Value) -> Vec<Value> {
    doc["findings"].as_array().cloned().unwrap_or_default()
}

/// A kubeconfig as `kubectl config view --raw` prints it, with a service-account token.
fn kubeconfig(token: &str) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: LS0tLS1CRUdJTg==\n    \
         server: https://10.0.0.1:6443\n  name: prod\ncontexts:\n- context:\n    cluster: prod\n    \
         user: deployer\n  name: prod\ncurrent-context: prod\nkind: Config\npreferences: {{}}\n\
         users:\n- name: deployer\n  user:\n    token: {token}\n"
    )
}

/// A zip (deflated members) as `zip -r` would write it.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).expect("zip member");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

fn write_bytes(r: &Repo, path: &str, data: &[u8]) {
    let p = r.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, data).expect("write");
}

#[test]
fn a_kubeconfig_in_a_zip_committed_long_ago_is_found_with_its_commit_and_member_path() {
    let r = Repo::new();
    r.write("README.md", "# ops\n");
    r.commit("initial");
    let token = common::legacy_token("prod", "deployer", "deployer-token-x7k2p");
    let bundle = zip_of(&[
        ("notes.txt", b"nothing here\n"),
        (".kube/config", kubeconfig(&token).as_bytes()),
    ]);
    write_bytes(&r, "backup/home.zip", &bundle);
    let leak = r.commit("back up my home directory");
    r.mv("backup/home.zip", "archive/home-2023.zip");
    let moved = r.commit("move old backups");
    std::fs::remove_file(r.join("archive/home-2023.zip")).expect("rm");
    r.commit("remove backups");

    let (code, doc) = git_json(&r, &[]);
    assert_eq!(code, 1, "{doc}");
    let f = findings(&doc);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["rule_id"], "k8s-sa-token-legacy");
    assert_eq!(f[0]["path"], "backup/home.zip!/.kube/config");
    assert_eq!(
        (f[0]["line"].as_u64(), f[0]["column"].as_u64()),
        (Some(18), Some(12))
    );
    assert_eq!(f[0]["git"]["commit"], leak.as_str());
    assert_eq!(f[0]["git"]["message"], "back up my home directory");
    assert_eq!(f[0]["token"]["namespace"], "prod");
    assert_eq!(f[0]["token"]["service_account"], "deployer");
    // The rename keeps the member part of the path.
    assert_eq!(
        f[0]["also_in"][0]["path"],
        "archive/home-2023.zip!/.kube/config"
    );
    assert_eq!(f[0]["also_in"][0]["git"]["commit"], moved.as_str());
    // The zip's own bytes count, decompressed, like a file scan's.
    assert!(
        doc["stats"]["bytes"].as_u64().unwrap_or(0) > bundle.len() as u64,
        "{doc}"
    );
}

#[test]
fn utf16_and_gzip_blobs_are_decoded_before_scanning() {
    let r = Repo::new();
    // Windows PowerShell 5's `kubectl ... > out.txt` writes UTF-16LE with a BOM.
    let token = common::legacy_token("ci", "runner", "runner-token-q9w8e");
    let text = format!("PS C:\\> kubectl get secret runner-token -o jsonpath='{{.data.token}}'\r\ntoken: {token}\r\n");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    write_bytes(&r, "support/ticket-4411/out.txt", &utf16);
    let first = r.commit("attach customer output");

    let bound = common::bound_token(
        "build",
        "ci-bot",
        "ci-bot-7f9c4",
        "https://kubernetes.default.svc.cluster.local",
        1_700_000_000,
        3600,
    );
    let log =
        format!("2024-05-01T10:00:00Z step 3/9\n2024-05-01T10:00:01Z export KUBE_TOKEN={bound}\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(log.as_bytes()).expect("gzip");
    write_bytes(&r, "ci/logs/build-118.log.gz", &gz.finish().expect("gzip"));
    let second = r.commit("keep CI logs");

    let (code, doc) = git_json(&r, &[]);
    assert_eq!(code, 1, "{doc}");
    let f = findings(&doc);
    let got: Vec<_> = f
        .iter()
        .map(|x| {
            (
                x["path"].as_str().unwrap_or(""),
                x["rule_id"].as_str().unwrap_or(""),
                x["line"].as_u64().unwrap_or(0),
                x["git"]["commit"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "ci/logs/build-118.log.gz!/build-118.log",
                "k8s-sa-token-bound",
                2,
                second.as_str()
            ),
            (
                "support/ticket-4411/out.txt",
                "k8s-sa-token-legacy",
                2,
                first.as_str()
            ),
        ],
        "{f:?}"
    );
    assert_eq!(f[1]["column"], 8);
    assert_eq!(f[0]["token"]["pod"], "ci-bot-7f9c4");
}

#[test]
fn archives_stay_closed_with_archive_depth_0_and_say_so_with_the_commit() {
    let r = Repo::new();
    let token = common::legacy_token("prod", "deployer", "depth-zero-token");
    write_bytes(
        &r,
        "home.zip",
        &zip_of(&[(".kube/config", kubeconfig(&token).as_bytes())]),
    );
    let c = r.commit("add zip");

    let (code, doc) = git_json(&r, &["--archive-depth", "0"]);
    assert_eq!(code, 0, "{doc}");
    assert!(findings(&doc).is_empty());
    let errors = doc["errors"].as_array().cloned().unwrap_or_default();
    let kinds: Vec<_> = errors
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap_or(""),
                e["kind"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let label = format!("{}:home.zip", &c[..12]);
    assert_eq!(kinds, [(label.as_str(), "archive-depth")], "{doc}");
}

#[test]
fn a_staged_zip_is_opened_by_the_pre_commit_scan() {
    let r = Repo::new();
    r.write("README.md", "# ops\n");
    r.commit("initial");
    let token = common::legacy_token("prod", "deployer", "staged-zip-token");
    write_bytes(
        &r,
        "dist/bundle.zip",
        &zip_of(&[("k8s/admin.conf", kubeconfig(&token).as_bytes())]),
    );
    r.git(&["add", "dist/bundle.zip"]);

    let (code, doc) = git_json(&r, &["--staged"]);
    assert_eq!(code, 1, "{doc}");
    let f = findings(&doc);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["path"], "dist/bundle.zip!/k8s/admin.conf");
    assert_eq!(f[0]["line"], 18);

    // Once committed, staging the same zip again under HEAD adds nothing new.
    r.commit("add bundle");
    r.write("dist/other.txt", "x\n");
    r.git(&["add", "dist/other.txt"]);
    let (code, doc) = git_json(&r, &["--staged"]);
    assert_eq!((code, findings(&doc).len()), (0, 0), "{doc}");
}
