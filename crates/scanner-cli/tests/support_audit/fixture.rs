//! The scanned files of the audit tests (really signed tokens, a real CA-signed client
//! certificate), the report `leakscan scan` writes of them, and the audit log of their uses.

use std::fs;
use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::Digest;

use super::{bootstrap_user, bound_user, cert_user, node_user, obj, sa_user, Req};
use crate::common;
use crate::support_cli::{leakscan_in, stderr};

/// 2024-06-01T00:00:00Z: when the fixture's credentials leaked (--leaked-at).
pub const T0: i64 = 1_717_200_000;
pub const JTI: &str = "5b0d6a52-8c1e-4f0e-9b7a-2d4c6e8f0a13";
pub const OTHER_JTI: &str = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b";
pub const LEGACY_SECRET: &str = "deployer-token-7xk2p";
pub const BOOTSTRAP: &str = "x7k2p9.m4n5q8r1s3t6v9w2";
pub const NODE: &str = "ip-10-0-1-17.ec2.internal";

/// Scanned files, their report, and every secret that must never be printed.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    /// `report.json` as `leakscan scan --format json` wrote it (its client-key finding
    /// carries `certificate.sha256`, the audit log's X509SHA256 credential id).
    pub cert_sha256: String,
    pub secrets: Vec<String>,
}

impl Fixture {
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    pub fn s(&self, rel: &str) -> String {
        self.path(rel).to_str().unwrap().to_owned()
    }
}

/// A client certificate (CN mallory, O system:masters) signed by a cluster CA, its key,
/// and the SHA-256 of its DER.
fn client_cert() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "kubernetes");
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client
        .distinguished_name
        .push(DnType::CommonName, "mallory");
    client
        .distinguished_name
        .push(DnType::OrganizationName, "system:masters");
    let cert = client.signed_by(&key, &issuer).unwrap();
    let digest = hex(&sha2::Sha256::digest(cert.der()));
    (cert.pem(), key.serialize_pem(), digest)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn bound_token() -> String {
    let mut claims = common::bound_claims(
        "apps",
        "web",
        "web-0",
        "https://kubernetes.default.svc.cluster.local",
        T0 - 600,
        86_400,
    );
    claims["jti"] = json!(JTI);
    common::sign_rs256("Xy9aZ3bQwErTyUiOpAsDfGhJkLzXcVbNm1234567890", &claims)
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("leak");
    fs::create_dir_all(root.join("ci")).unwrap();
    fs::create_dir_all(root.join("apps")).unwrap();
    let legacy = common::legacy_token("ci", "deployer", LEGACY_SECRET);
    fs::write(root.join("ci/deploy.env"), format!("KUBE_TOKEN={legacy}\n")).unwrap();
    let bound = bound_token();
    fs::write(
        root.join("apps/debug.log"),
        format!("2024-06-01 curl -H 'Authorization: Bearer {bound}' https://10.0.0.10:6443/api\n"),
    )
    .unwrap();
    fs::write(
        root.join("join.sh"),
        format!("kubeadm join 10.0.0.10:6443 --token {BOOTSTRAP} \\\n  --discovery-token-ca-cert-hash sha256:8cb2de97839780a412b93877f8507ad6c94f73add17d5d7058e91741c9d5ec78\n"),
    )
    .unwrap();
    let (cert, key, digest) = client_cert();
    let key_data = B64.encode(&key);
    fs::write(
        root.join("admin.kubeconfig"),
        format!("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://10.0.0.10:6443\n  name: prod\ncontexts:\n- context:\n    cluster: prod\n    user: mallory\n  name: prod\ncurrent-context: prod\nusers:\n- name: mallory\n  user:\n    client-certificate-data: {}\n    client-key-data: {key_data}\n", B64.encode(&cert)),
    )
    .unwrap();
    let report = dir.path().join("report.json");
    let out = leakscan_in(
        dir.path(),
        &[
            "scan",
            "leak",
            "--format",
            "json",
            "--no-progress",
            "-o",
            "report.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    for r in [
        "k8s-sa-token-legacy",
        "k8s-sa-token-bound",
        "k8s-bootstrap-token",
        "kubeconfig-client-key",
    ] {
        assert!(rules.contains(&r), "{r} missing from {rules:?}");
    }
    // The scan read the certificate beside the key and reports its digest itself.
    for f in doc["findings"].as_array().unwrap() {
        if f["rule_id"] == "kubeconfig-client-key" {
            assert_eq!(f["certificate"]["sha256"], digest.as_str(), "{f:#}");
            assert_eq!(f["certificate"]["user"], "mallory", "{f:#}");
        }
    }
    let secret_half = BOOTSTRAP.split('.').nth(1).unwrap().to_owned();
    let key_body: String = key
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    Fixture {
        dir,
        cert_sha256: digest,
        secrets: vec![
            legacy,
            bound,
            secret_half,
            key_data,
            key_body[..40].to_owned(),
        ],
    }
}

/// The log every test reads: uses of each credential before and after T0, look-alikes
/// that must not match, a TokenRequest that minted the bound token (its response holds
/// the token), and two malformed lines.
pub fn audit_log(fx: &Fixture) -> String {
    let legacy = sa_user("ci", "deployer");
    let manual = "authentication.k8s.io/legacy-token-manual-secret";
    let mut log = String::new();
    // Legacy token: once before the leak, once after (through a proxy that adds XFF).
    log += &Req::new(
        "0f1e2d3c-0001-4a5b-8c7d-000000000001",
        legacy.clone(),
        "list",
        obj("pods", "", "ci", "", ""),
        T0 - 86_400,
    )
    .annotate(manual, LEGACY_SECRET)
    .lines();
    log += &Req::new(
        "0f1e2d3c-0002-4a5b-8c7d-000000000002",
        legacy.clone(),
        "get",
        obj("secrets", "", "kube-system", "db-creds", ""),
        T0 + 3_600,
    )
    .from(&["198.51.100.23", "203.0.113.7"])
    .agent("python-requests/2.31.0")
    .annotate(manual, LEGACY_SECRET)
    .lines();
    // The same account's other Secret, and its bound token: not this credential.
    log += &Req::new(
        "0f1e2d3c-0003-4a5b-8c7d-000000000003",
        legacy.clone(),
        "get",
        obj("secrets", "", "kube-system", "db-creds", ""),
        T0 + 7_200,
    )
    .annotate(manual, "deployer-token-other")
    .lines();
    log += &Req::new(
        "0f1e2d3c-0004-4a5b-8c7d-000000000004",
        bound_user("ci", "deployer", "deployer-0", OTHER_JTI),
        "get",
        obj("secrets", "", "ci", "app", ""),
        T0 + 7_300,
    )
    .lines();
    // The Secret was labelled invalid later: the token is refused, the attempt recorded.
    let refused = Req::new(
        "0f1e2d3c-0005-4a5b-8c7d-000000000005",
        json!({}),
        "get",
        obj("secrets", "", "ci", "", ""),
        T0 + 9_000,
    )
    .annotate(
        "authentication.k8s.io/legacy-token-invalidated",
        &format!("{LEGACY_SECRET}/ci"),
    )
    .code(401)
    .lines();
    // A refused request is logged once, at its end.
    log += refused.lines().last().unwrap();
    log += "\n";
    // Bound token: minted by the kubelet, then exec'd into a pod (stale) and watched Secrets.
    let bound = bound_user("apps", "web", "web-0", JTI);
    log += &Req::new("0f1e2d3c-0006-4a5b-8c7d-000000000006", node_user(NODE), "create", obj("serviceaccounts", "", "apps", "web", "token"), T0 - 600)
        .annotate("authentication.kubernetes.io/issued-credential-id", &format!("JTI={JTI}"))
        .responding(json!({"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "metadata": {"name": "web", "namespace": "apps"}, "spec": {"audiences": ["https://kubernetes.default.svc.cluster.local"], "expirationSeconds": 3607, "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web-0"}}, "status": {"token": bound_token(), "expirationTimestamp": "2024-06-01T00:50:07Z"}}))
        .lines();
    log += &Req::new(
        "0f1e2d3c-0007-4a5b-8c7d-000000000007",
        bound.clone(),
        "create",
        obj("pods", "", "apps", "web-0", "exec"),
        T0 + 600,
    )
    .from(&["203.0.113.7"])
    .annotate(
        "authentication.k8s.io/stale-token",
        "subject: system:serviceaccount:apps:web, seconds after warning threshold: 4185802",
    )
    .lines();
    log += &Req::new(
        "0f1e2d3c-0008-4a5b-8c7d-000000000008",
        bound.clone(),
        "watch",
        obj("secrets", "", "apps", "", ""),
        T0 + 700,
    )
    .from(&["203.0.113.7"])
    .watch_lines();
    log += "\n";
    log += &Req::new(
        "0f1e2d3c-0009-4a5b-8c7d-000000000009",
        bound_user("apps", "web", "web-1", OTHER_JTI),
        "get",
        obj("pods", "", "apps", "web-1", ""),
        T0 + 800,
    )
    .lines();
    // Bootstrap token: a CSR whose completion the log does not hold; and another token.
    log += &Req::new(
        "0f1e2d3c-0010-4a5b-8c7d-000000000010",
        bootstrap_user("x7k2p9"),
        "create",
        obj(
            "certificatesigningrequests",
            "certificates.k8s.io",
            "",
            "",
            "",
        ),
        T0 + 900,
    )
    .agent("kubeadm/v1.30.2 (linux/amd64) kubernetes/3968350")
    .received_only();
    log += &Req::new(
        "0f1e2d3c-0011-4a5b-8c7d-000000000011",
        bootstrap_user("q9w8e7"),
        "create",
        obj(
            "certificatesigningrequests",
            "certificates.k8s.io",
            "",
            "",
            "",
        ),
        T0 + 950,
    )
    .lines();
    // Client certificate: binds cluster-admin, reads a Secret as jane; another certificate.
    let cert = cert_user("mallory", &["system:masters"], &fx.cert_sha256);
    log += &Req::new(
        "0f1e2d3c-0012-4a5b-8c7d-000000000012",
        cert.clone(),
        "create",
        obj(
            "clusterrolebindings",
            "rbac.authorization.k8s.io",
            "",
            "",
            "",
        ),
        T0 + 1_000,
    )
    .lines();
    log += &Req::new(
        "0f1e2d3c-0013-4a5b-8c7d-000000000013",
        cert.clone(),
        "get",
        obj("secrets", "", "prod", "stripe", ""),
        T0 + 1_100,
    )
    .impersonating("jane", &["developers"])
    .lines();
    let other_cert = "9".repeat(64);
    log += &Req::new(
        "0f1e2d3c-0014-4a5b-8c7d-000000000014",
        cert_user("mallory", &["system:masters"], &other_cert),
        "get",
        obj("secrets", "", "prod", "stripe", ""),
        T0 + 1_200,
    )
    .lines();
    // Malformed: not JSON at all, and an object holding the jti that does not parse.
    log += "audit log rotated by logrotate\n";
    log += &format!(
        "{{\"kind\":\"Event\",\"auditID\":\"x\",\"user\":{{\"extra\":{{\"authentication.kubernetes.io/credential-id\":[\"JTI={JTI}\"]}}}},\"verb\":}}\n"
    );
    log
}
