//! Issue 9 item 2: bootstrap tokens in every context kubeadm and its tooling print or read,
//! each with a negative twin holding a documentation example or a rearrangement of one.

use scanner_core::{Finding, Origin, Scanner};

fn scan(path: &str, text: &str) -> Vec<Finding> {
    Scanner::builder()
        .now(1_735_689_600)
        .build()
        .expect("scanner")
        .scan_bytes(text.as_bytes(), &Origin::path(path))
}

/// (file, text with `{T}` where the token goes): one context each.
const CONTEXTS: &[(&str, &str)] = &[
    ("join.env", "K8S_JOIN_TOKEN={T}\n"),
    ("vars.yml", "kubeadm_token: \"{T}\"\n"),
    ("main.tf", "variable \"join\" {}\nlocals {\n  kubeadm_join_token = \"{T}\"\n}\n"),
    ("Vagrantfile", "KUBEADM = { 'token' => '{T}', 'cidr' => '10.244.0.0/16' }\n"),
    ("cluster.py", "kubeadm = {\n    'token': '{T}',\n}\n"),
    ("config.json", "{\"kubeadm\": {\"bootstrapToken\": \"{T}\"}}\n"),
    (
        "join.yaml",
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: 10.0.0.1:6443\n    token: {T}\n    unsafeSkipCAVerification: true\n  tlsBootstrapToken: {T}\n",
    ),
    (
        "init.yaml",
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nbootstrapTokens:\n- groups:\n  - system:bootstrappers:kubeadm:default-node-token\n  token: {T}\n  ttl: 24h0m0s\n",
    ),
    ("kubelet.service", "ExecStart=/usr/bin/kubelet-join --discovery-token {T} --api 10.0.0.1\n"),
    ("session.txt", "root@cp-1:~# kubeadm token create\n{T}\nroot@cp-1:~#\n"),
    (
        "token-list.txt",
        "TOKEN                     TTL         EXPIRES                USAGES                   DESCRIPTION   EXTRA GROUPS\n{T}   23h         2024-05-02T10:00:00Z   authentication,signing   <none>        system:bootstrappers:kubeadm:default-node-token\n",
    ),
    (
        "bootstrap-kubelet.conf",
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://10.0.0.1:6443\n  name: kubernetes\nusers:\n- name: tls-bootstrap-token-user\n  user:\n    token: {T}\n",
    ),
];

#[test]
fn a_bootstrap_token_is_found_in_every_context() {
    let token = "x7k2p9.m4n5q8r1s3t6v9w2";
    for (path, ctx) in CONTEXTS {
        let text = ctx.replace("{T}", token);
        let found = scan(path, &text);
        let expected: Vec<(usize, usize)> = text
            .match_indices(token)
            .map(|(at, _)| {
                let line = text[..at].matches('\n').count() + 1;
                (line, at - text[..at].rfind('\n').map_or(0, |p| p + 1) + 1)
            })
            .collect();
        let got: Vec<(usize, usize)> = found.iter().map(|f| (f.line, f.column)).collect();
        assert_eq!(got, expected, "{path}: {found:?}");
        for f in &found {
            assert_eq!(f.rule_id, "k8s-bootstrap-token", "{path}");
            assert_eq!(f.secret.expose(), token, "{path}");
        }
    }
}

#[test]
fn documentation_examples_and_rearrangements_are_silent_everywhere() {
    for dummy in [
        "abcdef.0123456789abcdef",
        "07401b.f395accd246ae52d",
        "abcdef.1234567890abcdef",
        "123456.abcdef0123456789",
    ] {
        for (path, ctx) in CONTEXTS {
            let found = scan(path, &ctx.replace("{T}", dummy));
            assert!(found.is_empty(), "{path} with {dummy}: {found:?}");
        }
        let join = format!("kubeadm join 10.0.0.1:6443 --token {dummy} \\\n  --discovery-token-ca-cert-hash sha256:0f\n");
        assert!(scan("README.md", &join).is_empty(), "{dummy}");
    }
}

#[test]
fn a_dotted_word_under_a_token_key_is_not_a_bootstrap_token() {
    // Same shape only in part, or glued to more text: version strings, hostnames.
    for text in [
        "token: x7k2p9.m4n5q8r1s3t6v9w2x\n",
        "TOKEN=release.2024-05-01\n",
        "access_token = \"x7k2p9.m4n5q8r1s3t6v9w2.sig\"\n",
        "--token-ttl 24h0m0s\n",
    ] {
        assert!(scan("x.txt", text).is_empty(), "{text}");
    }
}
