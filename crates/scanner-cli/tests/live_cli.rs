//! `leakscan scan --verify-live` against a fake API server on 127.0.0.1 (HTTPS, its own CA):
//! live / rejected / unreachable, the blast-radius summary, severity after verification,
//! and that nothing is contacted unless asked, and only the servers allowed.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;
#[path = "../../scanner-core/tests/support_git/mod.rs"]
mod support_git;
mod support_k8s;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use support_cli::{json_of, leakscan};
use support_k8s::{FakeApiServer, Identity, Mode};

const NOW: &str = "2024-01-01T00:00:00Z";
const NOW_UNIX: i64 = 1_704_067_200;
const STATIC_TOKEN: &str = "k8s-static-7f3a9c2e5b1d4f6a8c0e2b4d";

fn api_token() -> String {
    bound_token(
        "payments",
        "api",
        "api-0",
        "https://kubernetes.default.svc.cluster.local",
        NOW_UNIX - 600,
        3600,
    )
}

/// The payments/api service account: may read secrets and create pods in its namespace.
fn identities() -> HashMap<String, Identity> {
    let api = Identity {
        username: "system:serviceaccount:payments:api".into(),
        uid: "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6".into(),
        groups: vec![
            "system:serviceaccounts".into(),
            "system:serviceaccounts:payments".into(),
            "system:authenticated".into(),
        ],
        rules: HashMap::from([
            (
                "payments".to_owned(),
                vec![
                    json!({"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["secrets", "configmaps"]}),
                    json!({"verbs": ["create", "delete"], "apiGroups": [""], "resources": ["pods"]}),
                ],
            ),
            (
                "kube-system".to_owned(),
                vec![json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]})],
            ),
        ]),
    };
    HashMap::from([(api_token(), api)])
}

/// A kubeconfig with two users on one cluster: the live service-account token, and a
/// static token the server does not know.
fn kubeconfig(server: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    certificate-authority-data: DATA+OMITTED
    server: {server}
contexts:
- name: api@prod
  context:
    cluster: prod
    user: api
- name: old@prod
  context:
    cluster: prod
    user: old
current-context: api@prod
users:
- name: api
  user:
    token: {}
- name: old
  user:
    token: {STATIC_TOKEN}
",
        api_token()
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn by_rule<'a>(doc: &'a Value, rule: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {doc:#}"))
}

#[test]
fn kubeconfig_tokens_are_checked_against_their_own_server() {
    let server = FakeApiServer::start(identities(), Mode::Answer);
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.crt", &server.ca_pem);
    let cfg = kubeconfig(&server.url);
    // The same kubeconfig twice: one set of requests per distinct token and server.
    write(dir.path(), "kubeconfig", &cfg);
    write(dir.path(), "kubeconfig.bak", &cfg);
    let root = dir.path().display().to_string();

    let out = leakscan(&[
        "scan",
        "--now",
        NOW,
        "--verify-live",
        "--ca-cert",
        &ca,
        "--no-progress",
        &root,
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_of(&out);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 4);

    let live = by_rule(&doc, "k8s-sa-token-bound");
    assert_eq!(live["path"], "kubeconfig", "{live:#}");
    assert_eq!(
        (live["line"].as_u64(), live["column"].as_u64()),
        (Some(21), Some(12))
    );
    assert_eq!(live["api_server"], server.url.as_str());
    assert_eq!(live["live"]["status"], "live");
    assert_eq!(live["live"]["server"], server.url.as_str());
    assert_eq!(
        live["live"]["username"],
        "system:serviceaccount:payments:api"
    );
    assert_eq!(live["live"]["uid"], "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6");
    assert_eq!(
        live["live"]["groups"],
        json!([
            "system:serviceaccounts",
            "system:serviceaccounts:payments",
            "system:authenticated"
        ])
    );
    // Risky only: configmaps and listing kube-system pods are not in the summary.
    assert_eq!(
        live["live"]["permissions"],
        json!(["payments: get,list,watch secrets", "payments: create pods"])
    );
    assert_eq!(live["severity"], "critical");

    let dead = by_rule(&doc, "kubeconfig-token");
    assert_eq!(dead["live"]["status"], "rejected");
    assert_eq!(dead["severity"], "low");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(STATIC_TOKEN));

    // 1 review + 2 rules reviews for the live token, 1 review for the static one.
    assert_eq!(server.requests(), 4, "{:?}", server.log());
    let log = server.log();
    assert!(log.contains(
        &"POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews payments".to_owned()
    ));
    assert!(log.contains(
        &"POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews kube-system".to_owned()
    ));
    assert!(String::from_utf8_lossy(&out.stderr).contains("4 requests"));
}

#[test]
fn min_severity_and_sarif_see_the_verified_result() {
    let server = FakeApiServer::start(identities(), Mode::Answer);
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.crt", &server.ca_pem);
    let input = write(dir.path(), "kubeconfig", &kubeconfig(&server.url));
    let out = leakscan(&[
        "scan",
        "-q",
        "--now",
        NOW,
        "--verify-live",
        "--ca-cert",
        &ca,
        "--min-severity",
        "critical",
        "--format",
        "sarif",
        &input,
    ]);
    let sarif = json_of(&out);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "the rejected token (low) is filtered out");
    assert_eq!(results[0]["ruleId"], "k8s-sa-token-bound");
    assert_eq!(results[0]["level"], "error");
    assert_eq!(results[0]["properties"]["live"]["status"], "live");
    assert_eq!(results[0]["properties"]["api_server"], server.url.as_str());
    assert!(results[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("LIVE as system:serviceaccount:payments:api"));
}

#[test]
fn a_server_that_never_answers_is_unreachable_within_the_timeout_once() {
    let server = FakeApiServer::start(identities(), Mode::Hang);
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.crt", &server.ca_pem);
    let input = write(
        dir.path(),
        "pod.log",
        &format!(
            "mounted token: {}\nanother: {}\n",
            legacy_token("kube-system", "admin", "admin-token-x7k2p"),
            legacy_token("kube-system", "backup", "backup-token-q2w3e")
        ),
    );
    let started = Instant::now();
    let out = leakscan(&[
        "scan",
        "-q",
        "--now",
        NOW,
        "--verify-live",
        "--api-server",
        &server.url,
        "--ca-cert",
        &ca,
        "--live-timeout",
        "1",
        &input,
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let doc = json_of(&out);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2);
    let f = &findings[0];
    assert_eq!(f["live"]["status"], "unreachable");
    let reason = f["live"]["reason"].as_str().unwrap().to_ascii_lowercase();
    assert!(
        reason.contains("timeout") || reason.contains("timed out"),
        "{reason}"
    );
    // Nothing known: the legacy token keeps its own severity.
    assert_eq!(f["severity"], "critical");
    // The second token does not wait for the same dead server again.
    assert_eq!(findings[1]["live"]["status"], "unreachable");
    assert!(findings[1]["live"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("not asked again after:"));
    assert_eq!(server.connections(), 1);
}

#[test]
fn an_untrusted_certificate_is_unreachable_with_a_tls_reason() {
    let server = FakeApiServer::start(identities(), Mode::Answer);
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "kubeconfig", &kubeconfig(&server.url));
    let out = leakscan(&["scan", "-q", "--now", NOW, "--verify-live", &input]);
    let doc = json_of(&out);
    let f = by_rule(&doc, "k8s-sa-token-bound");
    assert_eq!(f["live"]["status"], "unreachable");
    let reason = f["live"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("certificate") || reason.contains("UnknownIssuer"),
        "{reason}"
    );
    assert_eq!(f["severity"], "high");
    // The handshake failed: the token was never sent.
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_default_scan_makes_zero_requests() {
    let server = FakeApiServer::start(identities(), Mode::Answer);
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "kubeconfig", &kubeconfig(&server.url));
    let out = leakscan(&["scan", "-q", "--now", NOW, &input]);
    let doc = json_of(&out);
    let f = by_rule(&doc, "k8s-sa-token-bound");
    assert!(f.get("live").is_none());
    // The kubeconfig's server is recorded, not called.
    assert_eq!(f["api_server"], server.url.as_str());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.connections(), 0);
}

#[test]
fn a_token_outside_a_kubeconfig_goes_only_to_api_server_urls() {
    let server = FakeApiServer::start(identities(), Mode::Answer);
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.crt", &server.ca_pem);
    // A URL next to the token in the scanned text is not a server to call.
    let input = write(
        dir.path(),
        "runbook.md",
        &format!(
            "curl -k {}/api/v1/secrets -H 'Authorization: Bearer {}'\n",
            server.url,
            api_token()
        ),
    );
    let out = leakscan(&[
        "scan",
        "-q",
        "--now",
        NOW,
        "--verify-live",
        "--ca-cert",
        &ca,
        &input,
    ]);
    let doc = json_of(&out);
    let f = by_rule(&doc, "k8s-sa-token-bound");
    assert!(
        f.get("live").is_none() && f.get("api_server").is_none(),
        "{f:#}"
    );
    assert_eq!(server.connections(), 0);

    // Named with --api-server, it is asked.
    let out = leakscan(&[
        "scan",
        "-q",
        "--now",
        NOW,
        "--verify-live",
        "--ca-cert",
        &ca,
        "--api-server",
        &server.url,
        &input,
    ]);
    let doc = json_of(&out);
    assert_eq!(
        by_rule(&doc, "k8s-sa-token-bound")["live"]["status"],
        "live"
    );
    assert_eq!(server.requests(), 3);
}

#[test]
fn the_request_budget_is_respected() {
    let server = FakeApiServer::start(identities(), Mode::Answer);
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.crt", &server.ca_pem);
    let input = write(dir.path(), "kubeconfig", &kubeconfig(&server.url));
    let out = leakscan(&[
        "scan",
        "-q",
        "--now",
        NOW,
        "--verify-live",
        "--ca-cert",
        &ca,
        "--live-budget",
        "2",
        &input,
    ]);
    let doc = json_of(&out);
    let live = by_rule(&doc, "k8s-sa-token-bound");
    assert_eq!(live["live"]["status"], "live");
    assert_eq!(live["live"]["permissions_incomplete"], true);
    assert_eq!(
        by_rule(&doc, "kubeconfig-token")["live"]["status"],
        "skipped"
    );
    assert_eq!(server.requests(), 2);
}

#[test]
fn jsonl_is_written_after_the_live_check() {
    let server = FakeApiServer::start(identities(), Mode::Answer);
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.crt", &server.ca_pem);
    let input = write(dir.path(), "kubeconfig", &kubeconfig(&server.url));
    let out = leakscan(&[
        "scan",
        "-q",
        "--now",
        NOW,
        "--verify-live",
        "--ca-cert",
        &ca,
        "--format",
        "jsonl",
        "--min-severity",
        "low",
        &input,
    ]);
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let statuses: Vec<&str> = lines
        .iter()
        .map(|f| f["live"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["live", "rejected"]);
}

#[test]
fn a_forbidden_review_is_still_live_and_an_old_server_is_asked_by_rules_review() {
    for mode in [Mode::ForbidReview, Mode::NoReviewApi] {
        let server = FakeApiServer::start(identities(), mode);
        let dir = tempfile::tempdir().unwrap();
        let ca = write(dir.path(), "ca.crt", &server.ca_pem);
        let input = write(dir.path(), "kubeconfig", &kubeconfig(&server.url));
        let out = leakscan(&[
            "scan",
            "-q",
            "--now",
            NOW,
            "--verify-live",
            "--ca-cert",
            &ca,
            &input,
        ]);
        let doc = json_of(&out);
        let bound = by_rule(&doc, "k8s-sa-token-bound");
        let dead = by_rule(&doc, "kubeconfig-token");
        // An unknown token is rejected by authentication before any authorization.
        assert_eq!(dead["live"]["status"], "rejected");
        if mode == Mode::ForbidReview {
            // 403: the server knew the token (authenticated) and only refused the review.
            assert_eq!(bound["live"]["status"], "live", "{bound:#}");
            assert_eq!(
                bound["live"]["username"],
                "system:serviceaccount:payments:api"
            );
            assert!(bound["live"]["reason"].as_str().unwrap().starts_with("403"));
            assert_eq!(bound["severity"], "critical");
            assert_eq!(
                bound["live"]["permissions"],
                json!(["payments: get,list,watch secrets", "payments: create pods"])
            );
        } else {
            // Before 1.27: no SelfSubjectReview, so a rules review decides; no username.
            assert_eq!(bound["live"]["status"], "live", "{bound:#}");
            assert!(bound["live"]["reason"].as_str().unwrap().contains("1.27"));
            assert!(bound["live"]["username"].is_null());
            assert_eq!(bound["severity"], "critical");
            assert_eq!(
                bound["live"]["permissions"],
                json!(["payments: get,list,watch secrets", "payments: create pods"])
            );
        }
    }
}

#[test]
fn git_history_findings_are_verified_too() {
    // A kubeconfig committed and deleted again: the history scan finds it, and its token is
    // checked against the server named in the same (historic) kubeconfig.
    let server = FakeApiServer::start(identities(), Mode::Answer);
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.crt", &server.ca_pem);
    let repo = support_git::Repo::new();
    repo.write("deploy/kubeconfig", &kubeconfig(&server.url));
    repo.commit("add kubeconfig");
    std::fs::remove_file(repo.join("deploy/kubeconfig")).unwrap();
    repo.commit("remove kubeconfig");
    let out = leakscan(&[
        "git",
        repo.path().to_str().unwrap(),
        "--now",
        NOW,
        "--verify-live",
        "--ca-cert",
        &ca,
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json_of(&out);
    let live = by_rule(&doc, "k8s-sa-token-bound");
    assert_eq!(live["path"], "deploy/kubeconfig");
    assert_eq!(live["git"]["message"], "add kubeconfig");
    assert_eq!(live["live"]["status"], "live");
    assert_eq!(live["severity"], "critical");
    assert_eq!(
        by_rule(&doc, "kubeconfig-token")["live"]["status"],
        "rejected"
    );
    assert_eq!(server.requests(), 4, "{:?}", server.log());
}
