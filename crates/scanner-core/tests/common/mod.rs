//! Test support shared by integration tests: real keys and really signed tokens with
//! Kubernetes' exact claim layouts. (Also included by the CLI's tests via `#[path]`.)
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

/// A key pair as PEM: private (for signing) and public (for verifying).
pub struct KeyPair {
    pub private_pem: String,
    pub public_pem: String,
}

/// One RSA-2048 and one P-256 key pair per test binary, generated at first use.
pub struct Keys {
    pub rsa: KeyPair,
    pub ec: KeyPair,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        rsa: new_rsa(),
        ec: new_ec(),
    })
}

/// A fresh RSA-2048 key pair (for "wrong key" tests).
pub fn new_rsa() -> KeyPair {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    let mut rng = rand::thread_rng();
    let key = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("rsa keygen");
    KeyPair {
        private_pem: key.to_pkcs1_pem(LineEnding::LF).expect("pem").to_string(),
        public_pem: key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("pem"),
    }
}

/// A fresh P-256 key pair.
pub fn new_ec() -> KeyPair {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let key = p256::SecretKey::random(&mut rand::thread_rng());
    KeyPair {
        private_pem: key.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string(),
        public_pem: key
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("pem"),
    }
}

/// Signs `header` (JSON text, exactly as given) and `claims` with `alg` and a PEM key.
pub fn sign_raw(header: &str, claims: &Value, alg: Algorithm, private_pem: &str) -> String {
    let key = match alg {
        Algorithm::ES256 | Algorithm::ES384 => {
            EncodingKey::from_ec_pem(private_pem.as_bytes()).expect("ec key")
        }
        _ => EncodingKey::from_rsa_pem(private_pem.as_bytes()).expect("rsa key"),
    };
    // serde_json's default map is sorted, which is exactly Kubernetes' claim order.
    let msg = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims"))
    );
    let sig = jsonwebtoken::crypto::sign(msg.as_bytes(), &key, alg).expect("sign");
    format!("{msg}.{sig}")
}

/// Signs with the shared RSA key and a Kubernetes-style header.
pub fn sign_rs256(kid: &str, claims: &Value) -> String {
    let header = format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#);
    sign_raw(&header, claims, Algorithm::RS256, &keys().rsa.private_pem)
}

/// Claims of a legacy Secret-based service-account token (no `exp`).
pub fn legacy_claims(ns: &str, sa: &str, secret: &str) -> Value {
    json!({
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": ns,
        "kubernetes.io/serviceaccount/secret.name": secret,
        "kubernetes.io/serviceaccount/service-account.name": sa,
        "kubernetes.io/serviceaccount/service-account.uid": "6c4a1a3e-2d4b-4f37-9d2a-0c1e5b7f9a11",
        "sub": format!("system:serviceaccount:{ns}:{sa}"),
    })
}

/// A legacy service-account token signed with the shared RSA key (`"kid":""` like old clusters).
pub fn legacy_token(ns: &str, sa: &str, secret: &str) -> String {
    sign_rs256("", &legacy_claims(ns, sa, secret))
}

/// Claims of a bound (projected) token bound to a pod, issued at `iat`, valid for `ttl` s.
pub fn bound_claims(ns: &str, sa: &str, pod: &str, iss: &str, iat: i64, ttl: i64) -> Value {
    json!({
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "exp": iat + ttl,
        "iat": iat,
        "iss": iss,
        "jti": "a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "kubernetes.io": {
            "namespace": ns,
            "node": {"name": "ip-10-0-1-17.ec2.internal", "uid": "0d6f5e4c-1b2a-4c3d-8e9f-a0b1c2d3e4f5"},
            "pod": {"name": pod, "uid": "7b2f3a1c-9d8e-4f6a-b5c4-d3e2f1a0b9c8"},
            "serviceaccount": {"name": sa, "uid": "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6"},
            "warnafter": iat + 3607
        },
        "nbf": iat,
        "sub": format!("system:serviceaccount:{ns}:{sa}"),
    })
}

/// A bound token signed with the shared RSA key.
pub fn bound_token(ns: &str, sa: &str, pod: &str, iss: &str, iat: i64, ttl: i64) -> String {
    sign_rs256(
        "Xy9aZ3bQwErTyUiOpAsDfGhJkLzXcVbNm1234567890",
        &bound_claims(ns, sa, pod, iss, iat, ttl),
    )
}

/// A non-Kubernetes JWT (an app's session token) signed with the shared EC key.
pub fn app_jwt() -> String {
    let claims = json!({"email": "dev@example.com", "exp": 4_102_444_800i64, "iat": 1_700_000_000, "iss": "https://auth.example.com", "sub": "user-42"});
    sign_raw(
        r#"{"alg":"ES256","typ":"JWT"}"#,
        &claims,
        Algorithm::ES256,
        &keys().ec.private_pem,
    )
}

/// A public data file in `../shared/thirdparty/` beside the repository (the SARIF schema,
/// gitleaks' default rules). Missing, it fails the test under CI (`CI` set and not
/// `false`/`0`), so CI can never pass without checking; elsewhere the test is skipped.
pub fn thirdparty(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/thirdparty")
        .join(name);
    if p.is_file() {
        return Some(p);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!ci, "{} is missing: CI must have ../shared", p.display());
    eprintln!("skipping: {} is absent", p.display());
    None
}

/// A scanner that adds up what the user allowed over every scan it runs: the `Scanner`
/// keeps no per-run counters (each scan reports suppressions to its own sink), so tests
/// that count across scans keep the total here.
pub struct Counted {
    pub scanner: scanner_core::Scanner,
    total: std::cell::Cell<u64>,
}

impl Counted {
    pub fn new(scanner: scanner_core::Scanner) -> Counted {
        Counted {
            scanner,
            total: std::cell::Cell::new(0),
        }
    }

    /// `Scanner::scan_bytes`, counting its suppressions.
    pub fn scan_bytes(
        &self,
        data: &[u8],
        origin: &scanner_core::Origin,
    ) -> Vec<scanner_core::Finding> {
        let mut found = scanner_core::Collected::default();
        self.scanner.scan_bytes_with(data, origin, &mut found);
        self.total.set(self.total.get() + found.suppressed);
        found.findings
    }

    /// Findings dropped so far because the user allowed them.
    pub fn suppressed(&self) -> u64 {
        self.total.get()
    }
}
