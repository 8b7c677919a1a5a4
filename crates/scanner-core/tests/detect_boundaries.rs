//! Issue 9 item 1: whatever touches a token on either side, the structure check decides.
//! Each context is written as the tool or language really writes it, with a really signed
//! token, and has a negative twin: the same context holding a placeholder.

mod common;

use scanner_core::{Finding, Origin, Scanner};

fn scan(path: &str, text: &str) -> Vec<Finding> {
    Scanner::builder()
        .now(1_735_689_600)
        .build()
        .expect("scanner")
        .scan_bytes(text.as_bytes(), &Origin::path(path))
}

/// Each context: (file name, text with `{T}` where the token goes).
const CONTEXTS: &[(&str, &str)] = &[
    // OpenShift deploy scripts: a positional argument with a default.
    (
        "deploy.sh",
        "#!/bin/bash\nTOKEN=${6:-{T}}\noc login --token=\"$TOKEN\"\n",
    ),
    ("init.sh", ": ${KUBE_TOKEN:={T}}\nexport KUBE_TOKEN\n"),
    ("ci.env", "JWT_{T}\n"),
    ("run.sh", "kubectl get pods -n prod --token={T}\n"),
    (
        "flags.txt",
        "curl -sk -H Authorization:Bearer -{T} https://10.0.0.1:6443/api\n",
    ),
    // A GitHub Actions log line with an ANSI colour code right before the token.
    (
        "job.log",
        "2024-05-01T10:00:00.0000000Z \u{1b}[0;32m{T}\u{1b}[0m\n",
    ),
    // A JSON string inside a JSON string: the quotes around the token are escaped.
    ("event.json", "{\"body\":\"{\\\"token\\\":\\\"{T}\\\"}\"}\n"),
    (
        "Client.java",
        "String kubeconfig = \"\"\"\n    token: {T}\"\"\";\n",
    ),
    ("client.py", "TOKEN = '''{T}'''\n"),
    ("main.go", "const token = `{T}`\n"),
    ("login.sh", "cat <<EOF > /tmp/t\n{T}\nEOF\n"),
];

#[test]
fn a_token_glued_to_its_neighbours_is_found_where_it_starts() {
    let token = common::legacy_token("payments", "deployer", "deployer-token-m4k7q");
    for (path, ctx) in CONTEXTS {
        let text = ctx.replace("{T}", &token);
        let found = scan(path, &text);
        assert_eq!(found.len(), 1, "{path}: {found:?}");
        let f = &found[0];
        assert_eq!(f.rule_id, "k8s-sa-token-legacy", "{path}");
        assert_eq!(
            f.secret.expose(),
            token,
            "{path}: the token ends where it ends"
        );
        let at = text.find(&token).expect("token in text");
        let line = text[..at].matches('\n').count() + 1;
        let column = at - text[..at].rfind('\n').map_or(0, |p| p + 1) + 1;
        assert_eq!((f.line, f.column), (line, column), "{path}");
        let info = f.token.as_ref().expect("token details");
        assert_eq!(info.namespace.as_deref(), Some("payments"), "{path}");
        assert_eq!(info.service_account.as_deref(), Some("deployer"), "{path}");
    }
}

#[test]
fn placeholders_in_the_same_contexts_are_silent() {
    // What docs and templates put there: a cut-off sample, a variable, a description.
    let placeholders = [
        "eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0...",
        "${SERVICE_ACCOUNT_TOKEN}",
        "<your-token>",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.REDACTED",
    ];
    for (path, ctx) in CONTEXTS {
        for p in placeholders {
            let found = scan(path, &ctx.replace("{T}", p));
            assert!(found.is_empty(), "{path} with {p}: {found:?}");
        }
    }
}

#[test]
fn percent_encoded_dots_in_a_url_are_decoded() {
    let token = common::bound_token(
        "monitoring",
        "prometheus",
        "prometheus-k8s-0",
        "https://kubernetes.default.svc.cluster.local",
        1_735_680_000,
        3600,
    );
    for dot in ["%2E", "%2e"] {
        let enc = token.replace('.', dot);
        // A websocket exec URL as kubectl proxies log it, token in the query string.
        let text = format!(
            "I0501 10:00:00.000000 1 proxy.go:55] GET /api/v1/namespaces/monitoring/pods/x/exec?command=sh&access_token={enc}&stdin=true\n"
        );
        let found = scan("proxy.log", &text);
        assert_eq!(found.len(), 1, "{dot}: {found:?}");
        let f = &found[0];
        assert_eq!(f.rule_id, "k8s-sa-token-bound");
        assert_eq!(f.secret.expose(), token, "decoded back to the token");
        assert_eq!(f.column, text.find("eyJ").unwrap() + 1);
        assert_eq!(f.decoded_from, ["percent"]);
        assert_eq!(
            f.token.as_ref().and_then(|t| t.pod.as_deref()),
            Some("prometheus-k8s-0")
        );
    }
    // A cut-off encoded sample stays silent.
    let cut = "access_token=eyJhbGciOiJSUzI1NiJ9%2EeyJzdWIiOiJ4In0%2E&x=1\n";
    assert!(scan("proxy.log", cut).is_empty());
}
