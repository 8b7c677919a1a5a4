//! Every rule id against the committed, realistic fixtures in `testdata/`, with the
//! positions and decoded claims a user would check. Hard negatives yield nothing.

use std::path::Path;

use scanner_core::{Finding, Origin, Scanner, Severity, TokenKind};

/// 2025-01-01T00:00:00Z: fixed so expiry assertions do not depend on the clock.
const NOW: i64 = 1_735_689_600;

fn scan(rel: &str) -> Vec<Finding> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let scanner = Scanner::builder().now(NOW).build().unwrap();
    scanner.scan_bytes(&bytes, &Origin::path(rel))
}

/// (rule id, line, column) of each finding, for compact assertions.
fn positions(f: &[Finding]) -> Vec<(&str, usize, usize)> {
    f.iter()
        .map(|f| (f.rule_id.as_str(), f.line, f.column))
        .collect()
}

#[test]
fn kubeconfig_users_every_credential_kind() {
    let f = scan("kubeconfig/admin.kubeconfig");
    assert_eq!(
        positions(&f),
        vec![
            ("kubeconfig-client-key", 19, 22),
            ("k8s-sa-token-legacy", 22, 12),
            ("kubeconfig-token", 25, 12),
            ("kubeconfig-password", 29, 15),
            ("kubeconfig-oidc-token", 35, 24),
            ("kubeconfig-oidc-token", 36, 19),
            ("kubeconfig-oidc-token", 38, 24),
        ]
    );
    assert!(f.iter().all(|f| f.path == "kubeconfig/admin.kubeconfig"));
    assert_eq!(f[0].decoded_from, vec!["base64"]);
    let sa = f[1].token.as_ref().unwrap();
    assert_eq!(sa.kind, TokenKind::LegacyServiceAccount);
    assert_eq!(sa.namespace.as_deref(), Some("kube-system"));
    assert_eq!(sa.service_account.as_deref(), Some("cluster-admin-sa"));
    assert_eq!(
        sa.secret_name.as_deref(),
        Some("cluster-admin-sa-token-7x9kq")
    );
    assert_eq!(sa.key_id.as_deref(), Some(""));
    assert_eq!(sa.expires_at, None);
    assert_eq!(f[1].severity, Severity::Critical);
    assert_eq!(f[2].secret.expose(), "8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c");
    assert_eq!(f[3].secret.expose(), "Wint3r-is-C0ming!");
    // The OIDC id-token is a JWT: its claims come along, and it expired in 2024.
    let id = f[5].token.as_ref().unwrap();
    assert_eq!(id.issuer.as_deref(), Some("https://dex.example.com"));
    assert!(id.expired);
    assert_eq!(f[5].severity, Severity::Low);
}

#[test]
fn kubectl_config_view_output_is_clean() {
    assert!(scan("kubeconfig/config-view.yaml").is_empty());
}

#[test]
fn secret_manifest_token_is_decoded_from_base64() {
    let f = scan("manifests/sa-token-secret.yaml");
    assert_eq!(positions(&f), vec![("k8s-sa-token-legacy", 6, 10)]);
    assert_eq!(f[0].decoded_from, vec!["base64"]);
    let t = f[0].token.as_ref().unwrap();
    assert_eq!(
        (t.namespace.as_deref(), t.service_account.as_deref()),
        (Some("ci"), Some("deployer"))
    );
    assert_eq!(t.secret_name.as_deref(), Some("deployer-token-m4n8z"));
    assert_eq!(t.issuer.as_deref(), Some("kubernetes/serviceaccount"));
    // The decoded secret is the JWT itself, not its base64.
    assert!(f[0]
        .secret
        .expose()
        .starts_with("eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9."));
}

#[test]
fn wrapped_base64_block_scalar() {
    let f = scan("manifests/monitoring-token-wrapped.yaml");
    assert_eq!(positions(&f), vec![("k8s-sa-token-legacy", 5, 7)]);
    assert_eq!(f[0].end_line, 20, "the finding spans all 16 wrapped lines");
    assert_eq!(
        f[0].token.as_ref().unwrap().namespace.as_deref(),
        Some("monitoring")
    );
}

#[test]
fn secret_list_json_dockerconfig_and_bootstrap() {
    let f = scan("manifests/secrets.json");
    assert_eq!(
        positions(&f),
        vec![
            ("k8s-dockerconfigjson", 7, 31),
            ("k8s-bootstrap-token", 21, 26)
        ]
    );
    assert_eq!(f[0].secret.expose(), "hT9vQ2xL7mZ4wK8pR3sN6yB1");
    assert!(f[0].description.contains("harbor.example.com"));
    assert_eq!(f[1].secret.expose(), "q7w2e9.v4k9m2x7p1s8d3f6");
    assert_eq!(f[1].decoded_from, vec!["base64"]);
}

#[test]
fn bootstrap_token_string_data() {
    let f = scan("manifests/bootstrap-token.yaml");
    assert_eq!(positions(&f), vec![("k8s-bootstrap-token", 10, 17)]);
    assert_eq!(f[0].secret.expose(), "h3n8c1.r7t2y9u4i1o6p3a5");
    assert!(f[0].decoded_from.is_empty());
}

#[test]
fn registry_pull_secret_string_data() {
    let f = scan("manifests/registry-pull-secret.yaml");
    assert_eq!(positions(&f), vec![("k8s-dockerconfigjson", 9, 67)]);
    assert_eq!(
        f[0].secret.expose(),
        "ghp_R8mK2xT5vQ9wL3nB7yP4cF6hJ1dS0aZgE2uI"
    );
}

#[test]
fn ci_log_bearer_token_and_kubeadm_join() {
    let f = scan("logs/ci-build.log");
    assert_eq!(
        positions(&f),
        vec![
            ("k8s-sa-token-bound", 3, 156),
            ("k8s-bootstrap-token", 5, 76)
        ]
    );
    let t = f[0].token.as_ref().unwrap();
    assert_eq!(t.kind, TokenKind::BoundServiceAccount);
    assert_eq!(t.namespace.as_deref(), Some("payments"));
    assert_eq!(t.service_account.as_deref(), Some("api"));
    assert_eq!(t.pod.as_deref(), Some("api-7d9f8b6c5-x2x7q"));
    assert_eq!(t.node.as_deref(), Some("ip-10-0-1-17.ec2.internal"));
    assert_eq!(
        t.audiences,
        vec!["https://kubernetes.default.svc.cluster.local"]
    );
    assert_eq!(t.issued_at.as_deref(), Some("2024-03-12T10:15:00Z"));
    assert_eq!(t.expires_at.as_deref(), Some("2024-03-12T11:15:07Z"));
    assert!(t.expired);
    assert_eq!(f[0].severity, Severity::Low);
    assert_eq!(f[1].secret.expose(), "9x8c7v.6b5n4m3l2k1j0h9g");
}

#[test]
fn kubectl_describe_output() {
    let f = scan("describe/kubectl-describe-secret.txt");
    assert_eq!(positions(&f), vec![("k8s-sa-token-legacy", 13, 13)]);
    assert_eq!(f[0].end_line, 13);
    assert_eq!(f[0].end_column, 13 + f[0].secret.expose().len());
}

#[test]
fn env_file_bound_eks_token_and_other_jwt() {
    let f = scan("env/app.env");
    assert_eq!(
        positions(&f),
        vec![("k8s-sa-token-bound", 4, 12), ("jwt", 5, 20)]
    );
    let t = f[0].token.as_ref().unwrap();
    assert!(t
        .issuer
        .as_deref()
        .unwrap()
        .starts_with("https://oidc.eks."));
    assert!(!t.expired);
    assert_eq!(f[0].severity, Severity::High);
    assert_eq!(f[1].token.as_ref().unwrap().algorithm, "ES256");
    assert_eq!(f[1].severity, Severity::Medium);
}

#[test]
fn shell_history_curl_and_kubectl_flag() {
    let f = scan("shell/bash_history");
    assert_eq!(
        positions(&f),
        vec![
            ("k8s-sa-token-legacy", 3, 36),
            ("k8s-sa-token-legacy", 4, 17)
        ]
    );
}

#[test]
fn source_file_token_and_json_escaped_private_key() {
    let f = scan("src/deploy_client.py");
    assert_eq!(
        positions(&f),
        vec![("k8s-sa-token-legacy", 7, 6), ("private-key", 9, 16)]
    );
    assert_eq!(f[1].decoded_from, vec!["json_escape"]);
}

#[test]
fn hard_negatives_are_clean() {
    for rel in ["negatives/lookalikes.md", "negatives/github-workflow.yml"] {
        let f = scan(rel);
        assert!(f.is_empty(), "{rel}: {:?}", positions(&f));
    }
}

#[test]
fn fingerprints_are_stable_and_path_sensitive() {
    let a = scan("shell/bash_history");
    let b = scan("shell/bash_history");
    assert_eq!(a[0].fingerprint, b[0].fingerprint);
    assert_eq!(a[0].fingerprint.len(), 32);
    let mut moved = a[0].clone();
    moved.path = "elsewhere".into();
    moved.refresh_fingerprint();
    assert_ne!(a[0].fingerprint, moved.fingerprint);
    // Not the unkeyed SHA-256 of leakscan 0.1, which a guess could confirm.
    assert_ne!(a[0].fingerprint, a[0].legacy_fingerprint());
}
