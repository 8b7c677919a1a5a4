//! Issue 12 item 2: remediation exact for the kind found — which object to delete, what to
//! read first, how long a token bound to nothing stays valid, and that a bootstrap token's
//! secret half is never printed.

mod common;

use scanner_core::analyse::remediation;
use scanner_core::{Finding, Origin, Scanner};
use serde_json::json;

const NOW: i64 = 1_735_689_600; // 2025-01-01

fn only(text: &str) -> Finding {
    let found = Scanner::builder()
        .now(NOW)
        .build()
        .expect("scanner")
        .scan_bytes(text.as_bytes(), &Origin::path("leak.txt"));
    assert_eq!(found.len(), 1, "{found:?}");
    found.into_iter().next().unwrap()
}

fn bound_with(binding: serde_json::Value, ttl: i64) -> String {
    let mut kio = json!({
        "namespace": "apps",
        "serviceaccount": {"name": "api", "uid": "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6"},
    });
    for (k, v) in binding.as_object().unwrap() {
        kio[k] = v.clone();
    }
    let claims = json!({
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "exp": NOW + ttl, "iat": NOW, "nbf": NOW,
        "iss": "https://kubernetes.default.svc.cluster.local",
        "jti": "a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "kubernetes.io": kio,
        "sub": "system:serviceaccount:apps:api",
    });
    common::sign_rs256("k1", &claims)
}

#[test]
fn a_legacy_token_dies_with_its_secret_after_its_last_use_is_read() {
    let f = only(&format!(
        "TOKEN={}\n",
        common::legacy_token("ci", "deployer", "deployer-token-m4n8z")
    ));
    let r = remediation(&f);
    assert_eq!(
        r.commands,
        [
            "kubectl -n ci get secret deployer-token-m4n8z -o jsonpath='{.metadata.labels.kubernetes\\.io/legacy-token-last-used}'",
            "kubectl -n ci delete secret deployer-token-m4n8z",
        ]
    );
    assert!(r.summary.contains("never expire"), "{}", r.summary);
}

#[test]
fn a_bound_token_names_the_object_it_is_bound_to() {
    let pod = bound_with(
        json!({"pod": {"name": "api-7d9f8c6b5-x2k4q", "uid": "7b2f3a1c-9d8e-4f6a-b5c4-d3e2f1a0b9c8"}}),
        3600,
    );
    let r = remediation(&only(&format!("{pod}\n")));
    assert_eq!(
        r.commands,
        ["kubectl -n apps delete pod api-7d9f8c6b5-x2k4q"]
    );
    assert!(
        r.summary.contains("expires 2025-01-01T01:00:00Z"),
        "{}",
        r.summary
    );

    let secret = bound_with(
        json!({"secret": {"name": "api-token-holder", "uid": "2f3e4d5c-6b7a-4988-8a1b-c2d3e4f5a6b7"}}),
        3600,
    );
    let r = remediation(&only(&format!("{secret}\n")));
    assert_eq!(
        r.commands,
        ["kubectl -n apps delete secret api-token-holder"]
    );
}

#[test]
fn a_token_bound_to_nothing_lives_until_exp_unless_its_account_goes() {
    // `kubectl create token api --duration 8760h`: no pod, secret or node.
    let t = bound_with(json!({}), 8760 * 3600);
    let r = remediation(&only(&format!("export TOKEN={t}\n")));
    assert!(r.summary.contains("Bound to no object"), "{}", r.summary);
    assert!(
        r.summary.contains("expires 2026-01-01T00:00:00Z"),
        "{}",
        r.summary
    );
    assert!(
        r.summary.contains("ServiceAccount apps/api"),
        "{}",
        r.summary
    );
    assert_eq!(r.commands, ["kubectl -n apps delete serviceaccount api"]);
    assert!(
        r.steps.iter().any(|s| s.contains("signing-key")),
        "{:?}",
        r.steps
    );
}

#[test]
fn an_expired_token_needs_no_revocation() {
    let t = bound_with(json!({}), -60);
    let r = remediation(&only(&format!("{t}\n")));
    assert!(r.summary.starts_with("Expired"), "{}", r.summary);
    assert!(r.commands.is_empty());
}

#[test]
fn a_bootstrap_token_is_deleted_by_its_public_id() {
    let f = only("kubeadm join 10.0.0.1:6443 --token x7k2p9.m4n5q8r1s3t6v9w2 --discovery-token-ca-cert-hash sha256:0f3c\n");
    let r = remediation(&f);
    assert_eq!(
        r.commands,
        [
            "kubeadm token delete x7k2p9",
            "kubectl -n kube-system delete secret bootstrap-token-x7k2p9",
        ]
    );
    assert!(!format!("{r:?}").contains("m4n5q8r1s3t6v9w2"));
}

#[test]
fn a_client_key_cannot_be_revoked_and_says_so() {
    let key = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        &common::keys().rsa.private_pem,
    );
    let f = only(&format!(
        "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: {key}\n"
    ));
    assert_eq!(f.rule_id, "kubeconfig-client-key");
    let r = remediation(&f);
    assert!(r.summary.contains("cannot revoke"), "{}", r.summary);
    assert!(r.summary.contains("system:masters"), "{}", r.summary);
}

#[test]
fn the_published_sample_needs_nothing() {
    let f = only("Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n");
    assert!(remediation(&f).summary.starts_with("Nothing to revoke"));
}

#[test]
fn a_bound_tokens_jti_is_reported_for_audit_correlation() {
    let t = bound_with(json!({}), 3600);
    let f = only(&format!("{t}\n"));
    let jti = f.token.as_ref().and_then(|t| t.jti.as_deref());
    assert_eq!(jti, Some("a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"));
}

#[test]
fn a_static_token_row_is_deleted_from_its_file_and_masters_are_audited() {
    let f = only(
        "cat > /etc/kubernetes/token.csv <<EOF\n5c1f0e9a7b3d42c88e6f1a2b9d4c7e30,admin,admin,system:masters\nEOF\n",
    );
    assert_eq!(f.rule_id, "k8s-static-token");
    let r = remediation(&f);
    assert!(r.summary.contains("--token-auth-file"), "{}", r.summary);
    assert!(
        r.steps.iter().any(|s| s.contains("system:masters")),
        "{:?}",
        r.steps
    );
    assert_eq!(
        r.commands,
        ["sudo grep -rn -- '--token-auth-file' /etc/kubernetes/manifests /etc/systemd/system"]
    );
    let f = only("echo \"Rk4vT9qWm2ZpX7bN,alice,1001\" > /srv/kubernetes/basic_auth.csv\n");
    assert_eq!(f.rule_id, "k8s-static-password");
    let r = remediation(&f);
    assert!(r.summary.contains("--basic-auth-file"), "{}", r.summary);
    assert!(
        !r.steps.iter().any(|s| s.contains("system:masters")),
        "{:?}",
        r.steps
    );
    assert!(r.steps.iter().any(|s| s.contains("1.19")), "{:?}", r.steps);
}
