//! Regenerates `testdata/` with freshly generated keys and really signed tokens.
//!
//! Run explicitly: `cargo test -p scanner-core --test gen_testdata -- --ignored`.
//! The detection tests (`detect_testdata.rs`) pin the positions in these files, so
//! regenerate only when the fixtures' layout changes, and update those tests with it.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde_json::json;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn write(rel: &str, text: &str) {
    let p = root().join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

/// base64 wrapped at 76 columns, as `base64` and many YAML emitters do.
fn b64_wrapped(s: &str, indent: &str) -> String {
    let e = b64(s);
    e.as_bytes()
        .chunks(76)
        .map(|c| format!("{indent}{}", std::str::from_utf8(c).unwrap()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn fake_ca() -> String {
    // Looks like a CA bundle; it is a certificate, not a key, so it is never a finding.
    let body = STANDARD.encode((0..700u32).map(|i| (i * 7 % 251) as u8).collect::<Vec<_>>());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[test]
#[ignore = "regenerates committed fixtures"]
fn generate() {
    let legacy_admin = common::legacy_token(
        "kube-system",
        "cluster-admin-sa",
        "cluster-admin-sa-token-7x9kq",
    );
    let legacy_ci = common::legacy_token("ci", "deployer", "deployer-token-m4n8z");
    let legacy_mon = common::legacy_token("monitoring", "prometheus", "prometheus-token-2bq7d");
    // Bound tokens: one expired (issued 2024-03-12, 1 h), one valid until 2036.
    let bound_expired = common::bound_token(
        "payments",
        "api",
        "api-7d9f8b6c5-x2x7q",
        "https://kubernetes.default.svc.cluster.local",
        1_710_238_500,
        3607,
    );
    let bound_eks = common::bound_token(
        "prod",
        "web",
        "web-5c7d9-abcde",
        "https://oidc.eks.eu-west-1.amazonaws.com/id/5C1D3E8F7A9B2C4D6E8F0A1B3C5D7E9F",
        1_763_000_000,
        315_360_000,
    );
    let oidc_id = common::sign_raw(
        r#"{"alg":"RS256","kid":"6f7254101f56e41cf35c9926de84a2d552b4c6f1"}"#,
        &json!({"aud": "kubernetes", "email": "alice@example.com", "email_verified": true, "exp": 1_710_242_100i64, "groups": ["platform-admins"], "iat": 1_710_238_500, "iss": "https://dex.example.com", "sub": "CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs"}),
        Algorithm::RS256,
        &common::keys().rsa.private_pem,
    );
    let app = common::app_jwt();
    let client_key = common::keys().rsa.private_pem.clone();
    let ec_key = common::keys().ec.private_pem.clone();

    write(
        "kubeconfig/admin.kubeconfig",
        &format!(
            "apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: {ca}
    server: https://k8s-prod.internal.example:6443
  name: prod
contexts:
- context:
    cluster: prod
    user: admin
  name: admin@prod
current-context: admin@prod
preferences: {{}}
users:
- name: admin
  user:
    client-certificate-data: {cert}
    client-key-data: {key}
- name: cluster-admin-sa
  user:
    token: {legacy_admin}
- name: static-ops
  user:
    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c
- name: legacy-basic
  user:
    username: ops
    password: Wint3r-is-C0ming!
- name: alice-oidc
  user:
    auth-provider:
      config:
        client-id: kubernetes
        client-secret: ZXhhbXBsZS1hcHAtc2VjcmV0LTk4MzQ3
        id-token: {oidc_id}
        idp-issuer-url: https://dex.example.com
        refresh-token: ChlrdW9ic2VxZmZ3N2lka3VnZ2Nna2R5bXR3EhlqbnFlNmV0ZXd2ZDZqcGRsNmJnYm5xbXA1
      name: oidc
",
            ca = b64(&fake_ca()),
            cert = b64(&fake_ca()),
            key = b64(&client_key)
        ),
    );

    write(
        "kubeconfig/config-view.yaml",
        "# kubectl config view (secrets elided by kubectl): no findings expected
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: DATA+OMITTED
    server: https://127.0.0.1:6443
  name: kind-dev
contexts:
- context:
    cluster: kind-dev
    user: kind-dev
  name: kind-dev
current-context: kind-dev
kind: Config
preferences: {}
users:
- name: kind-dev
  user:
    client-certificate-data: DATA+OMITTED
    client-key-data: DATA+OMITTED
- name: ci
  user:
    token: REDACTED
",
    );

    write(
        "manifests/sa-token-secret.yaml",
        &format!(
            "# kubectl get secret deployer-token-m4n8z -n ci -o yaml
apiVersion: v1
data:
  ca.crt: {ca}
  namespace: {ns}
  token: {tok}
kind: Secret
metadata:
  annotations:
    kubernetes.io/service-account.name: deployer
    kubernetes.io/service-account.uid: 6c4a1a3e-2d4b-4f37-9d2a-0c1e5b7f9a11
  creationTimestamp: \"2023-05-02T09:14:11Z\"
  name: deployer-token-m4n8z
  namespace: ci
type: kubernetes.io/service-account-token
",
            ca = b64(&fake_ca()),
            ns = b64("ci"),
            tok = b64(&legacy_ci)
        ),
    );

    write(
        "manifests/monitoring-token-wrapped.yaml",
        &format!(
            "# a token pasted into a Helm values file, base64-wrapped at 76 columns
prometheus:
  remoteRead:
    bearerToken: >-
{wrapped}
  retention: 15d
",
            wrapped = b64_wrapped(&legacy_mon, "      ")
        ),
    );

    let docker_auth = b64("robot$ci-pull:hT9vQ2xL7mZ4wK8pR3sN6yB1");
    let dockercfg = format!(
        r#"{{"auths":{{"harbor.example.com":{{"username":"robot$ci-pull","password":"hT9vQ2xL7mZ4wK8pR3sN6yB1","auth":"{docker_auth}"}}}}}}"#
    );
    let secrets = json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
             "metadata": {"name": "harbor-pull", "namespace": "ci"},
             "data": {".dockerconfigjson": b64(&dockercfg)}},
            {"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
             "metadata": {"name": "bootstrap-token-q7w2e9", "namespace": "kube-system"},
             "data": {"auth-extra-groups": b64("system:bootstrappers:kubeadm:default-node-token"),
                      "token-id": b64("q7w2e9"), "token-secret": b64("v4k9m2x7p1s8d3f6"),
                      "usage-bootstrap-authentication": b64("true"), "usage-bootstrap-signing": b64("true")}},
        ]
    });
    write(
        "manifests/secrets.json",
        &(serde_json::to_string_pretty(&secrets).unwrap() + "\n"),
    );

    write(
        "manifests/bootstrap-token.yaml",
        "apiVersion: v1
kind: Secret
metadata:
  name: bootstrap-token-h3n8c1
  namespace: kube-system
type: bootstrap.kubernetes.io/token
stringData:
  description: \"worker join token\"
  token-id: h3n8c1
  token-secret: r7t2y9u4i1o6p3a5
  usage-bootstrap-authentication: \"true\"
  usage-bootstrap-signing: \"true\"
  auth-extra-groups: system:bootstrappers:worker
",
    );

    write("manifests/registry-pull-secret.yaml",
"apiVersion: v1
kind: Secret
metadata:
  name: ghcr-pull
  namespace: apps
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: |
    {\"auths\": {\"ghcr.io\": {\"username\": \"deploy-bot\", \"password\": \"ghp_R8mK2xT5vQ9wL3nB7yP4cF6hJ1dS0aZgE2uI\"}}}
");

    write("logs/ci-build.log", &format!(
"2024-03-12T10:14:58.112Z [build] Step 7/12 : RUN make test
2024-03-12T10:15:01.004Z [build] ok  	github.com/example/api/internal/payments	2.114s
2024-03-12T10:15:02.123Z [deploy] I0312 10:15:02.123456   17 round_trippers.go:466] curl -v -XGET  -H \"Accept: application/json\" -H \"Authorization: Bearer {bound_expired}\" 'https://10.96.0.1:443/api/v1/namespaces/payments/pods'
2024-03-12T10:15:02.301Z [deploy] I0312 10:15:02.301118   17 round_trippers.go:553] GET https://10.96.0.1:443/api/v1/namespaces/payments/pods 200 OK in 177 milliseconds
2024-03-12T10:15:03.550Z [provision] + kubeadm join 10.0.12.4:6443 --token 9x8c7v.6b5n4m3l2k1j0h9g \\
2024-03-12T10:15:03.550Z [provision]     --discovery-token-ca-cert-hash sha256:4f8c1b8e0b2f9d1a7c6e5d4b3a2918f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1
2024-03-12T10:15:04.001Z [provision] [preflight] Running pre-flight checks
2024-03-12T10:15:09.870Z [deploy] Waiting for deployment \"api\" rollout to finish: 1 of 3 updated replicas are available...
2024-03-12T10:15:12.432Z [deploy] deployment \"api\" successfully rolled out
"));

    write(
        "describe/kubectl-describe-secret.txt",
        &format!(
            "Name:         prometheus-token-2bq7d
Namespace:    monitoring
Labels:       <none>
Annotations:  kubernetes.io/service-account.name: prometheus
              kubernetes.io/service-account.uid: 6c4a1a3e-2d4b-4f37-9d2a-0c1e5b7f9a11

Type:  kubernetes.io/service-account-token

Data
====
ca.crt:     1099 bytes
namespace:  10 bytes
token:      {legacy_mon}
"
        ),
    );

    write(
        "env/app.env",
        &format!(
            "# local development settings
DATABASE_URL=postgres://app@localhost:5432/app
KUBE_API_SERVER=https://k8s-prod.internal.example:6443
KUBE_TOKEN={bound_eks}
SESSION_SAMPLE_JWT={app}
LOG_LEVEL=debug
"
        ),
    );

    write("shell/bash_history", &format!(
"kubectl get pods -A
export APISERVER=https://10.0.12.4:6443
curl -sk -H \"Authorization: Bearer {legacy_admin}\" $APISERVER/api/v1/namespaces/kube-system/secrets
kubectl --token={legacy_ci} -n ci get deploy
cat /var/run/secrets/kubernetes.io/serviceaccount/token
history | grep token
"));

    write("src/deploy_client.py", &format!(
"\"\"\"Tiny deploy helper used by the release pipeline.\"\"\"
import requests

API = \"https://k8s-prod.internal.example:6443\"
# TODO: move to a secret store
SA_TOKEN = (
    \"{legacy_ci}\"
)
SIGNING_KEY = \"{ec_key_escaped}\"


def deploy(ns: str, manifest: dict) -> None:
    requests.post(f\"{{API}}/apis/apps/v1/namespaces/{{ns}}/deployments\",
                  headers={{\"Authorization\": f\"Bearer {{SA_TOKEN}}\"}}, json=manifest, timeout=10)
", ec_key_escaped = ec_key.trim_end().replace('\n', "\\n")));

    // Hard negatives: nothing in here is a finding.
    let none_jwt = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#)
    );
    let truncated = &legacy_admin[..legacy_admin.len() - 200];
    write(
        "negatives/lookalikes.md",
        &format!(
            "# Things that look like credentials but are not

Mounted token path: /var/run/secrets/kubernetes.io/serviceaccount/token
Docs placeholder: `kubectl --token=<token> get pods`
Template: token: ${{K8S_TOKEN}}
Redacted log line: Authorization: Bearer eyJhbGciOi...REDACTED
Truncated copy: {truncated}
Unsigned: {none_jwt}
UUID: 3f2b8c1e-9a4d-4e7b-8c2f-1d6a5b9e0c3a
Git SHA: 4b825dc642cb6eb9a060e54bf8d69288fbee4904
Random base64: c2VjcmV0LXNhdWNlLWlzLW5vdC1hLWNyZWRlbnRpYWwtMTIzNDU2Nzg5MA==
kubeadm docs: kubeadm join 192.168.0.200:6443 --token abcdef.0123456789abcdef
Placeholder key:
-----BEGIN RSA PRIVATE KEY-----
...
-----END RSA PRIVATE KEY-----
"
        ),
    );
    write(
        "negatives/github-workflow.yml",
        "name: release
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          token: ${{ secrets.GITHUB_TOKEN }}
      - run: echo \"password: see vault\"
",
    );
    let _ = client_key;
}
