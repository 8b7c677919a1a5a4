//! The kubeconfig, bootstrap-token and dockerconfigjson rules: arbitrary bytes placed where
//! each rule looks (a kubeconfig user, a kubeadm line, a bootstrap Secret, a registry
//! Secret), in YAML and JSON.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use scanner_core::{Origin, Scanner};
use std::sync::OnceLock;

const FRAMES: &[(&str, &str)] = &[
    ("apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    ", "\n"),
    ("users:\n- name: a\n  user:\n    token: ", "\n    client-key-data: "),
    ("{\"users\":[{\"name\":\"a\",\"user\":{\"", "\"}}]}"),
    ("kubeadm join 10.0.0.1:6443 --token ", " --discovery-token-ca-cert-hash sha256:"),
    ("apiVersion: v1\nkind: Secret\ntype: bootstrap.kubernetes.io/token\ndata:\n  token-id: ", "\n  token-secret: "),
    ("{\"auths\":{\"", "\":{\"auth\":\"\"}}}\n.dockerconfigjson: "),
];

fuzz_target!(|data: &[u8]| {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    let s = SCANNER.get_or_init(Scanner::new);
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (pre, post) = FRAMES[pick as usize % FRAMES.len()];
    let mut input = pre.as_bytes().to_vec();
    input.extend_from_slice(rest);
    input.extend_from_slice(post.as_bytes());
    input.extend_from_slice(rest);
    for f in s.scan_bytes(&input, &Origin::path("fuzz.kubeconfig")) {
        common::check(&f, Some(input.len()));
    }
});
