//! Issue 9 item 3: a kubeconfig embedded in another format keeps its rule ids and its
//! kubeconfig kind. One kubeconfig (a service-account token user, a static token user and a
//! client-certificate user with a really generated key) is embedded as each format embeds it:
//! a Java text block, a Python triple-quoted string, a Go raw string, Terraform heredocs,
//! Helm values, a JSON string, and Markdown (a list item, a blockquote). Each finding must
//! carry the kubeconfig rule id at the line and column of its value, and the client key must
//! never be demoted to `private-key` by the string's terminator.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::sync::OnceLock;

use scanner_core::{Finding, Origin, Scanner};

/// 2025-01-01T00:00:00Z, as the other fixture tests.
const NOW: i64 = 1_735_689_600;

/// The three credentials of the kubeconfig.
struct Creds {
    jwt: String,
    token: String,
    key_b64: String,
}

fn creds() -> &'static Creds {
    static C: OnceLock<Creds> = OnceLock::new();
    C.get_or_init(|| Creds {
        jwt: common::legacy_token("ci", "deployer", "deployer-token-m4n8z"),
        // What `head -c 16 /dev/urandom | od -An -t x | tr -d ' '` prints.
        token: "3f9c1e7a52b84d06a1e9f3c7b2d5e8a4".to_owned(),
        key_b64: STANDARD.encode(common::new_rsa().private_pem),
    })
}

/// The kubeconfig as `kubectl config view --raw` prints it, one line per item.
fn kubeconfig_lines() -> Vec<String> {
    let c = creds();
    [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- cluster:",
        "    server: https://10.0.12.4:6443",
        "    insecure-skip-tls-verify: true",
        "  name: prod",
        "contexts:",
        "- context:",
        "    cluster: prod",
        "    user: ci",
        "  name: ci@prod",
        "current-context: ci@prod",
        "preferences: {}",
        "users:",
        "- name: ci",
        "  user:",
        &format!("    token: {}", c.jwt),
        "- name: deployer",
        "  user:",
        &format!("    token: {}", c.token),
        "- name: admin",
        "  user:",
        &format!("    client-key-data: {}", c.key_b64),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Each line with `prefix` in front of it (indentation, a blockquote marker).
fn prefixed(prefix: &str) -> String {
    kubeconfig_lines()
        .iter()
        .map(|l| format!("{prefix}{l}").trim_end().to_owned() + "\n")
        .collect()
}

fn scan(path: &str, text: &str) -> Vec<Finding> {
    Scanner::builder()
        .now(NOW)
        .build()
        .expect("scanner")
        .scan_bytes(text.as_bytes(), &Origin::path(path))
}

/// 1-based line and column of the first occurrence of `needle` in `text`.
fn locate(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"));
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |p| p + 1) + 1;
    (line, col)
}

/// The first characters of a secret, enough to tell the three apart in a failure message.
fn short(secret: &str) -> String {
    secret.chars().take(12).collect()
}

/// Asserts exactly the kubeconfig's three findings, with their rule ids, secrets and places.
fn assert_kubeconfig_found(path: &str, text: &str) {
    assert_found_decoded(path, text, &[]);
}

/// As [`assert_kubeconfig_found`], for a kubeconfig that `outer` decoding steps revealed.
fn assert_found_decoded(path: &str, text: &str, outer: &[&str]) {
    let c = creds();
    let found = scan(path, text);
    let got: Vec<(String, usize, usize, String)> = found
        .iter()
        .map(|f| {
            (
                f.rule_id.clone(),
                f.line,
                f.column,
                short(f.secret.expose()),
            )
        })
        .collect();
    let mut want: Vec<(String, usize, usize, String)> = [
        ("k8s-sa-token-legacy", &c.jwt),
        ("kubeconfig-token", &c.token),
        ("kubeconfig-client-key", &c.key_b64),
    ]
    .iter()
    .map(|(rule, secret)| {
        let (line, col) = locate(text, secret);
        (rule.to_string(), line, col, short(secret))
    })
    .collect();
    want.sort();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    assert_eq!(got_sorted, want, "{path}");
    assert!(
        found.iter().all(|f| f.rule_id != "private-key"),
        "{path}: client key demoted to private-key"
    );
    let key = found
        .iter()
        .find(|f| f.rule_id == "kubeconfig-client-key")
        .unwrap();
    let steps: Vec<&str> = outer.iter().copied().chain(["base64"]).collect();
    assert_eq!(key.decoded_from, steps, "{path}");
    let sa = found
        .iter()
        .find(|f| f.rule_id == "k8s-sa-token-legacy")
        .unwrap();
    let info = sa.token.as_ref().expect("token details");
    assert_eq!(info.namespace.as_deref(), Some("ci"), "{path}");
    assert_eq!(info.service_account.as_deref(), Some("deployer"), "{path}");
}

#[test]
fn java_text_block_closed_after_client_key_data() {
    let body = prefixed("            ");
    // The text block closes right after the last value: `""";` glued to the key.
    let body = body.trim_end().to_owned() + "\"\"\";\n";
    let text = format!(
        "package com.example.deploy;\n\npublic final class ClusterFixture {{\n    private ClusterFixture() {{}}\n\n    /** kubectl config view --raw of the staging cluster. */\n    static final String KUBECONFIG =\n        \"\"\"\n{body}}}\n"
    );
    assert_kubeconfig_found(
        "src/test/java/com/example/deploy/ClusterFixture.java",
        &text,
    );
}

#[test]
fn java_text_block_as_a_call_argument() {
    // `Config.fromKubeconfig("""…""")`: the terminator is `""");`.
    let body = prefixed("        ");
    let body = body.trim_end().to_owned() + "\"\"\");\n";
    let text = format!(
        "class Fixture {{\n  void setUp() {{\n    client = Config.fromKubeconfig(\"\"\"\n{body}  }}\n}}\n"
    );
    assert_kubeconfig_found("Fixture.java", &text);
}

#[test]
fn python_triple_quoted_string() {
    // The first line glued to the opening quotes, the closing ones glued to the last value.
    let body = prefixed("");
    let body = body.trim_end().to_owned() + "\"\"\"\n";
    let text = format!(
        "import yaml\n\n# Fixture for the e2e suite.\nKUBECONFIG = \"\"\"{body}\n\ndef load():\n    return yaml.safe_load(KUBECONFIG)\n"
    );
    assert_kubeconfig_found("tests/conftest.py", &text);
}

#[test]
fn python_single_quoted_triple_string_in_a_call() {
    // `'''` glued to the last value and closing two calls.
    let body = prefixed("");
    let body = body.trim_end().to_owned() + "'''))\n";
    let text = format!(
        "from kubernetes import config\nimport yaml\n\nconfig.load_kube_config_from_dict(yaml.safe_load('''\n{body}"
    );
    assert_kubeconfig_found("deploy.py", &text);
}

#[test]
fn go_raw_string() {
    let body = prefixed("");
    let body = body.trim_end().to_owned() + "`\n";
    let text = format!(
        "package e2e\n\nimport \"testing\"\n\n// kubeconfig of the kind cluster the tests run against.\nconst kubeconfig = `{body}\nfunc TestDeploy(t *testing.T) {{\n\t_ = kubeconfig\n}}\n"
    );
    assert_kubeconfig_found("e2e/cluster_test.go", &text);
}

#[test]
fn terraform_indented_heredoc() {
    let body = prefixed("    ");
    let text = format!(
        "resource \"local_sensitive_file\" \"kubeconfig\" {{\n  filename = \"${{path.module}}/kubeconfig\"\n  content  = <<-EOT\n{body}  EOT\n}}\n"
    );
    assert_kubeconfig_found("infra/kubeconfig.tf", &text);
}

#[test]
fn terraform_plain_heredoc() {
    let body = prefixed("");
    let text = format!(
        "output \"kubeconfig\" {{\n  sensitive = true\n  value     = <<EOF\n{body}EOF\n}}\n"
    );
    assert_kubeconfig_found("outputs.tf", &text);
}

#[test]
fn helm_values_block_scalar() {
    let body = prefixed("      ");
    let text = format!(
        "# values.yaml for the cluster-registration chart\nreplicaCount: 1\ncluster:\n  name: prod\n  kubeconfig: |\n{body}  labels:\n    env: prod\n"
    );
    assert_kubeconfig_found("charts/register/values.yaml", &text);
}

#[test]
fn json_string_with_newline_escapes() {
    let yaml = prefixed("");
    let escaped = serde_json::to_string(&yaml).unwrap();
    let text = format!(
        "{{\n  \"name\": \"prod\",\n  \"server\": \"https://10.0.12.4:6443\",\n  \"kubeconfig\": {escaped}\n}}\n"
    );
    assert_found_decoded("clusters/prod.json", &text, &["json_escape"]);
}

#[test]
fn markdown_list_item() {
    let body = prefixed("   ");
    let text = format!(
        "## Connecting\n\n1. Save what the platform team sent you as `~/.kube/config`:\n\n   ```yaml\n{body}   ```\n\n2. Run `kubectl get pods`.\n"
    );
    assert_kubeconfig_found("docs/connect.md", &text);
}

#[test]
fn markdown_blockquote() {
    let body = prefixed("> ");
    let text = format!(
        "The user pasted their config:\n\n> ```yaml\n{body}> ```\n\nWe rotated the credentials.\n"
    );
    assert_kubeconfig_found("issue-1234.md", &text);
}

#[test]
fn markdown_blockquote_inside_a_list_item() {
    let body = prefixed("  > ");
    let text = format!("- From the bug report:\n\n  > ```\n{body}  > ```\n");
    assert_kubeconfig_found("notes.md", &text);
}

#[test]
fn markdown_flattened_to_one_line_of_json() {
    // `kubectl config view --raw -o json | jq -c`, pasted into a quoted reply.
    let c = creds();
    let json = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"cluster": {"server": "https://10.0.12.4:6443"}, "name": "prod"}],
        "contexts": [{"context": {"cluster": "prod", "user": "ci"}, "name": "ci@prod"}],
        "current-context": "ci@prod",
        "users": [
            {"name": "ci", "user": {"token": c.jwt}},
            {"name": "deployer", "user": {"token": c.token}},
            {"name": "admin", "user": {"client-key-data": c.key_b64}},
        ],
    });
    let text = format!(
        "Output of `kubectl config view --raw -o json | jq -c`:\n\n> `{}`\n\nThanks!\n",
        serde_json::to_string(&json).unwrap()
    );
    assert_kubeconfig_found("comment.md", &text);
}

#[test]
fn placeholders_stay_silent_in_every_format() {
    let yaml = "apiVersion: v1\nkind: Config\nusers:\n- name: deployer\n  user:\n    token: ${KUBE_TOKEN}\n- name: admin\n  user:\n    client-key-data: DATA+OMITTED\n";
    let quoted: String = yaml.lines().map(|l| format!("> {l}\n")).collect();
    let json = serde_json::to_string(yaml).unwrap();
    for (path, text) in [
        (
            "A.java",
            format!("String k = \"\"\"\n{}\"\"\";\n", yaml.trim_end()),
        ),
        ("a.py", format!("K = \"\"\"{yaml}\"\"\"\n")),
        ("a.go", format!("const k = `{yaml}`\n")),
        ("a.tf", format!("x = <<-EOT\n{yaml}EOT\n")),
        ("a.json", format!("{{\"kubeconfig\": {json}}}\n")),
        ("a.md", quoted),
    ] {
        let found = scan(path, &text);
        assert!(found.is_empty(), "{path}: {found:?}");
    }
}
