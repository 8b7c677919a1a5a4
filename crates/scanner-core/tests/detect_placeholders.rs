//! Issue 9 item 4: what stands in for a credential is silent, what is one is reported, and
//! a sample token everyone copies from the docs is reported as `info` with the reason.

use scanner_core::{Finding, Origin, Scanner, Severity};

fn scan(path: &str, text: &str) -> Vec<Finding> {
    Scanner::builder()
        .now(1_735_689_600)
        .build()
        .expect("scanner")
        .scan_bytes(text.as_bytes(), &Origin::path(path))
}

/// A kubeconfig as a chart or a tutorial writes it, with `value` as the user's credential.
fn kubeconfig(key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://203.0.113.10:6443\n  \
         name: edge\ncontexts:\n- context:\n    cluster: edge\n    user: kubelet\n  name: edge\n\
         current-context: edge\nusers:\n- name: kubelet\n  user:\n    {key}: {value}\n"
    )
}

#[test]
fn self_describing_and_templated_tokens_are_silent() {
    for value in [
        "KUBELET_TOKEN",
        "blue-token",
        "my_cluster_token",
        "%KUBE_TOKEN%",
        "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER",
        "\"{{ .Values.kubelet.token }}\"",
        "${BOOTSTRAP_TOKEN}",
        "'<token>'",
        "********",
        "changeme",
    ] {
        let found = scan(".kube/config", &kubeconfig("token", value));
        assert!(found.is_empty(), "{value}: {found:?}");
    }
}

#[test]
fn generated_static_tokens_are_reported() {
    for value in [
        "8f2kq9x7m3n5p1w4z6r0t8y2u4i6o9a3",
        "31ada4fd-adec-460c-809a-9e56ceb75269",
        "sha256~Xk3qPz9mW2vR7tYb1nC5dF8gH0jL4sA6",
    ] {
        let text = kubeconfig("token", value);
        let found = scan(".kube/config", &text);
        assert_eq!(found.len(), 1, "{value}: {found:?}");
        assert_eq!(found[0].rule_id, "kubeconfig-token");
        assert_eq!(found[0].secret.expose(), value);
        assert_eq!((found[0].line, found[0].column), (16, 12));
    }
}

#[test]
fn a_weak_password_is_still_a_password_but_a_name_is_not() {
    let found = scan(".kube/config", &kubeconfig("password", "admin123"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule_id, "kubeconfig-password");
    for name in ["KUBE_PASSWORD", "admin-password", "${PASSWORD}"] {
        let found = scan(".kube/config", &kubeconfig("password", name));
        assert!(found.is_empty(), "{name}: {found:?}");
    }
    // `password:` outside a kubeconfig user is not a Kubernetes credential.
    assert!(scan(
        "config/app.yaml",
        "database:\n  password: s3cr3tP4ssw0rd!\n"
    )
    .is_empty());
}

#[test]
fn published_sample_jwts_are_info_with_the_reason() {
    let samples = [
        (
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "jwt.io",
        ),
        (
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "RFC 7519",
        ),
    ];
    for (token, source) in samples {
        let text = format!("curl -H \"Authorization: Bearer {token}\" https://api.example.com/\n");
        let found = scan("docs/auth.md", &text);
        assert_eq!(found.len(), 1, "{source}: {found:?}");
        let f = &found[0];
        assert_eq!(f.rule_id, "jwt");
        assert_eq!(f.severity, Severity::Info, "{source}");
        let why = f.token.as_ref().and_then(|t| t.published_sample.as_deref());
        assert!(why.is_some_and(|w| w.contains(source)), "{source}: {why:?}");
        assert!(f.description.contains("not a secret"), "{}", f.description);
    }
    // One character changed is no longer the sample (and no longer verifies): medium.
    let altered = samples[0].0.replace("SflKxw", "SflKxx");
    let found = scan("docs/auth.md", &format!("Bearer {altered}\n"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Medium);
}
