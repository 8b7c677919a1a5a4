//! Issue 12 item 2: a leaked kubeconfig client key is described by the certificate beside
//! it — user (CN), groups (O), issuer, expiry and the SHA-256 the audit log names it by —
//! and one in system:masters, which RBAC cannot stop, is critical.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use scanner_core::analyse::remediation;
use scanner_core::{Finding, Origin, Scanner, Severity};
use sha2::{Digest, Sha256};

struct Client {
    cert_b64: String,
    key_b64: String,
    der_sha256: String,
}

/// A cluster CA and a client certificate for `cn` in `groups`, valid until `until` (year).
fn client(cn: &str, groups: &[&str], until: i32) -> Client {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "kubernetes");
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    for g in groups {
        p.distinguished_name.push(DnType::OrganizationName, *g);
    }
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = rcgen::date_time_ymd(until, 1, 1);
    let cert = p.signed_by(&key, &issuer).unwrap();
    Client {
        cert_b64: B64.encode(cert.pem()),
        key_b64: B64.encode(key.serialize_pem()),
        der_sha256: Sha256::digest(cert.der())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    }
}

fn scan(path: &str, text: &str) -> Vec<Finding> {
    Scanner::builder()
        .now(1_735_689_600) // 2025-01-01
        .build()
        .unwrap()
        .scan_bytes(text.as_bytes(), &Origin::path(path))
}

/// `kubectl config view --raw` with two users: an admin and a developer.
fn kubeconfig(admin: &Client, dev: &Client) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.0.0.10:6443\n  name: kubernetes\n\
         kind: Config\nusers:\n- name: kubernetes-admin\n  user:\n    client-certificate-data: {}\n    \
         client-key-data: {}\n- name: dev\n  user:\n    client-key-data: {}\n    client-certificate-data: {}\n",
        admin.cert_b64, admin.key_b64, dev.key_b64, dev.cert_b64
    )
}

#[test]
fn each_key_is_described_by_its_own_users_certificate() {
    let admin = client("kubernetes-admin", &["system:masters"], 2030);
    // rcgen keeps one value per attribute type: one O here.
    let dev = client("jane", &["dev"], 2030);
    let found = scan(".kube/config", &kubeconfig(&admin, &dev));
    assert_eq!(found.len(), 2, "{found:?}");
    let (a, d) = (&found[0], &found[1]);
    assert_eq!((a.rule_id.as_str(), a.line), ("kubeconfig-client-key", 11));
    assert_eq!((d.rule_id.as_str(), d.line), ("kubeconfig-client-key", 14));
    let ac = a.certificate.as_ref().expect("admin certificate");
    assert_eq!(ac.user.as_deref(), Some("kubernetes-admin"));
    assert_eq!(ac.groups, ["system:masters"]);
    assert_eq!(ac.issuer, "CN=kubernetes");
    assert_eq!(ac.not_after, "2030-01-01T00:00:00Z");
    assert_eq!(ac.sha256, admin.der_sha256);
    assert!(!ac.expired);
    assert_eq!(
        a.severity,
        Severity::Critical,
        "system:masters bypasses RBAC"
    );
    assert!(remediation(a).summary.contains("rotate the cluster CA"));

    // The certificate after the key (dev's entry) is found too, and is dev's own.
    let dc = d.certificate.as_ref().expect("dev certificate");
    assert_eq!(dc.user.as_deref(), Some("jane"));
    assert_eq!(dc.groups, ["dev"]);
    assert_eq!(dc.sha256, dev.der_sha256);
    assert_eq!(d.severity, Severity::High);
    let r = remediation(d);
    assert!(
        r.summary.contains("user jane and groups dev "),
        "{}",
        r.summary
    );
    assert!(
        r.commands[0].contains(r#".name=="jane""#),
        "{:?}",
        r.commands
    );
}

#[test]
fn an_expired_certificate_makes_its_key_low() {
    let old = client("ci", &["ci"], 2024);
    let dev = client("jane", &[], 2030);
    let found = scan(".kube/config", &kubeconfig(&old, &dev));
    let f = &found[0];
    let c = f.certificate.as_ref().unwrap();
    assert!(c.expired);
    assert_eq!(f.severity, Severity::Low);
    assert!(remediation(f).summary.starts_with("Expired"));
}

#[test]
fn json_kubeconfigs_and_keys_without_certificate() {
    let admin = client("kubernetes-admin", &["system:masters"], 2030);
    let json = format!(
        "{{\"kind\":\"Config\",\"users\":[{{\"name\":\"admin\",\"user\":{{\"client-certificate-data\":\"{}\",\"client-key-data\":\"{}\"}}}}]}}\n",
        admin.cert_b64, admin.key_b64
    );
    let found = scan("kubeconfig.json", &json);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].certificate.as_ref().map(|c| c.sha256.as_str()),
        Some(admin.der_sha256.as_str())
    );
    // A key whose certificate is a file path: no certificate, the key is still high.
    let text = format!(
        "users:\n- name: a\n  user:\n    client-certificate: /etc/kubernetes/pki/a.crt\n    client-key-data: {}\n",
        admin.key_b64
    );
    let found = scan(".kube/config", &text);
    assert_eq!(found.len(), 1);
    assert!(found[0].certificate.is_none());
    assert_eq!(found[0].severity, Severity::High);
}
