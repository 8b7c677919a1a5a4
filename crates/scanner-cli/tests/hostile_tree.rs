//! Hostile file trees for `leakscan scan`: symbolic-link loops (file and directory), links
//! to devices, sockets, devices named as arguments, and a 200 MB line with the token at its
//! end. Every case is bounded by a timeout, must not crash, and must either find the token
//! (rule, path, line, column) or report what it skipped with its kind.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;

use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support_cli::error_kinds as errors;

const LIMIT: Duration = Duration::from_secs(120);
const KUBECONFIG: &str =
    "users:\n- name: ops\n  user:\n    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c\n";

fn scan(dir: &Path, args: &[&str]) -> (i32, Value) {
    support_cli::scan_json(dir, args, LIMIT)
}

/// (rule, path, line, column) of every finding, sorted.
fn findings(doc: &Value) -> Vec<(String, String, u64, u64)> {
    let mut f: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect();
    f.sort();
    f
}

fn pair(path: &str, kind: &str) -> (String, String) {
    (path.to_owned(), kind.to_owned())
}

#[test]
fn symlink_loops_and_a_link_to_dev_zero_are_reported_and_the_rest_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("conf/nested")).unwrap();
    std::fs::write(root.join("conf/ops.kubeconfig"), KUBECONFIG).unwrap();
    // Two links pointing at each other, one pointing at itself.
    symlink("b.yaml", root.join("conf/a.yaml")).unwrap();
    symlink("a.yaml", root.join("conf/b.yaml")).unwrap();
    symlink("self.yaml", root.join("conf/self.yaml")).unwrap();
    // A directory link back to an ancestor: the walk would never end.
    symlink("../..", root.join("conf/nested/up")).unwrap();
    // Endless bytes.
    symlink("/dev/zero", root.join("conf/zero.log")).unwrap();

    let (code, doc) = scan(root, &["."]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        findings(&doc),
        vec![(
            "kubeconfig-token".into(),
            "conf/ops.kubeconfig".into(),
            4,
            12
        )]
    );
    assert_eq!(
        errors(&doc),
        vec![
            pair("conf/a.yaml", "symlink-loop"),
            pair("conf/b.yaml", "symlink-loop"),
            pair("conf/nested/up", "symlink-loop"),
            pair("conf/self.yaml", "symlink-loop"),
            pair("conf/zero.log", "device"),
        ]
    );
}

#[test]
fn a_socket_in_the_tree_and_dev_null_as_an_argument_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("run")).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(root.join("run/agent.sock")).unwrap();
    std::fs::write(root.join("run/ops.kubeconfig"), KUBECONFIG).unwrap();

    let (code, doc) = scan(root, &["run", "/dev/null"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        findings(&doc),
        vec![(
            "kubeconfig-token".into(),
            "run/ops.kubeconfig".into(),
            4,
            12
        )]
    );
    assert_eq!(
        errors(&doc),
        vec![
            pair("/dev/null", "device"),
            pair("run/agent.sock", "socket")
        ]
    );
}

#[test]
fn a_200_mb_line_without_a_newline_has_its_token_found_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minified.js");
    let tok = common::legacy_token("kube-system", "deployer", "deployer-token-q8x2m");
    let word = b"var a=1;";
    let count = 200 * 1024 * 1024 / word.len();
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for _ in 0..count {
            f.write_all(word).unwrap();
        }
        write!(f, "var auth=\"Bearer {tok}\"").unwrap();
        f.flush().unwrap();
    }
    let column = (count * word.len() + "var auth=\"Bearer ".len() + 1) as u64;
    for mode in [&[][..], &["--no-mmap"][..]] {
        let mut args = vec!["minified.js"];
        args.extend_from_slice(mode);
        let (code, doc) = scan(dir.path(), &args);
        assert_eq!(code, 1, "{mode:?}: {doc}");
        assert_eq!(
            findings(&doc),
            vec![(
                "k8s-sa-token-legacy".into(),
                "minified.js".into(),
                1,
                column
            )],
            "{mode:?}"
        );
        assert_eq!(errors(&doc), vec![], "{mode:?}");
    }
}
