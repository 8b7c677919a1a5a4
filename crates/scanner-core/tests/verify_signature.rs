//! Offline signature verification with real keys and really signed tokens: PEM public keys
//! (Kubernetes' sa.pub) and JWKS documents (/openid/v1/jwks), through the scanner.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::*;
use jsonwebtoken::Algorithm;
use scanner_core::verify::KeySet;
use scanner_core::{Finding, Origin, Scanner, Severity, SignatureStatus};
use serde_json::{json, Value};

/// 2024-01-01T00:00:00Z: the bound tokens below are issued an hour before it.
const NOW: i64 = 1_704_067_200;

fn scan(keys: KeySet, token: &str) -> Vec<Finding> {
    let scanner = Scanner::builder().now(NOW).keys(keys).build().unwrap();
    let text = format!("2024-01-01 GET /api/v1/pods Authorization: Bearer {token}\n");
    scanner.scan_bytes(text.as_bytes(), &Origin::path("api.log"))
}

fn only(findings: &[Finding]) -> &Finding {
    assert_eq!(findings.len(), 1, "{findings:#?}");
    &findings[0]
}

fn pem_keys(pems: &[&str]) -> KeySet {
    let mut ks = KeySet::new();
    for (i, p) in pems.iter().enumerate() {
        ks.add_pem(p.as_bytes(), &format!("key{i}.pem")).unwrap();
    }
    ks
}

/// Kubernetes' key id of a public key: base64url(SHA-256(DER SubjectPublicKeyInfo)).
fn k8s_kid(public_pem: &str) -> String {
    use sha2::{Digest, Sha256};
    let der = pem::parse(public_pem).unwrap();
    URL_SAFE_NO_PAD.encode(Sha256::digest(der.contents()))
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa_jwk(public_pem: &str, kid: &str) -> Value {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::traits::PublicKeyParts;
    let k = rsa::RsaPublicKey::from_public_key_pem(public_pem).unwrap();
    json!({"use": "sig", "kty": "RSA", "kid": kid, "alg": "RS256",
           "n": b64(&k.n().to_bytes_be()), "e": b64(&k.e().to_bytes_be())})
}

fn p256_jwk(public_pem: &str, kid: &str) -> Value {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::DecodePublicKey;
    let k = p256::PublicKey::from_public_key_pem(public_pem).unwrap();
    let pt = k.to_encoded_point(false);
    json!({"use": "sig", "kty": "EC", "kid": kid, "crv": "P-256", "alg": "ES256",
           "x": b64(pt.x().unwrap()), "y": b64(pt.y().unwrap())})
}

/// A fresh P-384 key pair and its JWK.
fn p384_pair(kid: &str) -> (KeyPair, Value) {
    use p384::elliptic_curve::sec1::ToEncodedPoint;
    use p384::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let key = p384::SecretKey::random(&mut rand::thread_rng());
    let pt = key.public_key().to_encoded_point(false);
    let jwk = json!({"use": "sig", "kty": "EC", "kid": kid, "crv": "P-384", "alg": "ES384",
                     "x": b64(pt.x().unwrap()), "y": b64(pt.y().unwrap())});
    let pair = KeyPair {
        private_pem: key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        public_pem: key.public_key().to_public_key_pem(LineEnding::LF).unwrap(),
    };
    (pair, jwk)
}

fn jwks(keys: &[Value]) -> KeySet {
    let doc = serde_json::to_vec(&json!({ "keys": keys })).unwrap();
    let mut ks = KeySet::new();
    assert_eq!(ks.add_jwks(&doc, "jwks.json").unwrap(), keys.len());
    ks
}

fn bound(iat: i64) -> String {
    bound_token(
        "payments",
        "api",
        "api-7d9f8b6c5d-x2k4j",
        "https://kubernetes.default.svc.cluster.local",
        iat,
        3600,
    )
}

#[test]
fn valid_legacy_token_against_sa_pub_names_the_kubernetes_key_id() {
    let token = legacy_token("kube-system", "admin", "admin-token-x7k2p");
    let findings = scan(pem_keys(&[&keys().rsa.public_pem]), &token);
    let f = only(&findings);
    assert_eq!(f.rule_id, "k8s-sa-token-legacy");
    let t = f.token.as_ref().unwrap();
    assert_eq!(t.signature, SignatureStatus::Valid);
    // The PEM has no kid of its own; the report names it the way the API server would.
    assert_eq!(
        t.verified_key_id.as_deref(),
        Some(k8s_kid(&keys().rsa.public_pem).as_str())
    );
    assert_eq!(f.severity, Severity::Critical);
}

#[test]
fn a_verified_unexpired_bound_token_is_critical_and_an_unverified_one_high() {
    let token = bound(NOW - 600);
    let verified = scan(pem_keys(&[&keys().rsa.public_pem]), &token);
    let f = only(&verified);
    assert_eq!(f.rule_id, "k8s-sa-token-bound");
    assert_eq!(f.token.as_ref().unwrap().signature, SignatureStatus::Valid);
    assert_eq!(f.severity, Severity::Critical);

    let unverified = scan(KeySet::new(), &token);
    let f = only(&unverified);
    assert_eq!(
        f.token.as_ref().unwrap().signature,
        SignatureStatus::Unverified
    );
    assert_eq!(f.severity, Severity::High);
}

#[test]
fn wrong_key_is_invalid_and_does_not_raise_severity() {
    let other = new_rsa();
    let findings = scan(pem_keys(&[&other.public_pem]), &bound(NOW - 600));
    let f = only(&findings);
    let t = f.token.as_ref().unwrap();
    assert_eq!(t.signature, SignatureStatus::Invalid);
    assert_eq!(t.verified_key_id, None);
    assert_eq!(f.severity, Severity::High);
}

#[test]
fn tampered_payload_is_invalid() {
    let token = legacy_token("dev", "ci", "ci-token-abcde");
    let parts: Vec<&str> = token.split('.').collect();
    // Same signature, payload rewritten to claim another namespace.
    let forged_claims = legacy_claims("kube-system", "ci", "ci-token-abcde");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap()),
        parts[2]
    );
    let findings = scan(pem_keys(&[&keys().rsa.public_pem]), &forged);
    let f = only(&findings);
    assert_eq!(
        f.token.as_ref().unwrap().namespace.as_deref(),
        Some("kube-system")
    );
    assert_eq!(
        f.token.as_ref().unwrap().signature,
        SignatureStatus::Invalid
    );
    // Untampered, the same key verifies it.
    let findings = scan(pem_keys(&[&keys().rsa.public_pem]), &token);
    assert_eq!(
        only(&findings).token.as_ref().unwrap().signature,
        SignatureStatus::Valid
    );
}

#[test]
fn expired_token_with_valid_signature_stays_low() {
    let token = bound(NOW - 7200);
    let findings = scan(pem_keys(&[&keys().rsa.public_pem]), &token);
    let f = only(&findings);
    let t = f.token.as_ref().unwrap();
    assert!(t.expired);
    assert_eq!(t.signature, SignatureStatus::Valid);
    assert_eq!(f.severity, Severity::Low);
}

#[test]
fn alg_none_and_hmac_tokens_never_count_as_valid() {
    let ks = pem_keys(&[&keys().rsa.public_pem]);
    let claims = legacy_claims("kube-system", "admin", "admin-token-x7k2p");
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let none = format!(
        "{}.{payload}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":""}"#),
        URL_SAFE_NO_PAD.encode([0u8; 256])
    );
    assert_eq!(ks.verify(&none).status, SignatureStatus::Unverified);
    assert!(scan(pem_keys(&[&keys().rsa.public_pem]), &none).is_empty());

    // The algorithm-confusion forgery: HS256 with the public key's bytes (PKCS#1 DER, what a
    // naive verifier would use as the HMAC secret) as the secret.
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    let public = rsa::RsaPublicKey::from_public_key_pem(&keys().rsa.public_pem).unwrap();
    let der = public.to_pkcs1_der().unwrap();
    let msg = format!(
        "{}.{payload}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":""}"#)
    );
    let secret = jsonwebtoken::EncodingKey::from_secret(der.as_bytes());
    let sig = jsonwebtoken::crypto::sign(msg.as_bytes(), &secret, Algorithm::HS256).unwrap();
    let forged = format!("{msg}.{sig}");
    let findings = scan(pem_keys(&[&keys().rsa.public_pem]), &forged);
    let f = only(&findings);
    assert_eq!(f.rule_id, "k8s-sa-token-legacy");
    assert_eq!(
        f.token.as_ref().unwrap().signature,
        SignatureStatus::Unverified
    );
}

#[test]
fn jwks_with_rsa_and_ec_keys_empty_and_unknown_kids_fall_back_to_all_keys() {
    let (p384, p384_jwk) = p384_pair("p384-key");
    let stranger = new_rsa();
    let ks = || {
        jwks(&[
            rsa_jwk(&stranger.public_pem, "old-key"),
            p256_jwk(&keys().ec.public_pem, "ec-key"),
            rsa_jwk(&keys().rsa.public_pem, "rsa-key"),
            p384_jwk.clone(),
        ])
    };
    let legacy = legacy_claims("kube-system", "admin", "admin-token-x7k2p");

    // Old clusters issue "kid":"" — every RSA key is tried.
    let t = only(&scan(
        ks(),
        &legacy_token("kube-system", "admin", "admin-token-x7k2p"),
    ))
    .token
    .clone()
    .unwrap();
    assert_eq!(
        (t.signature, t.verified_key_id.as_deref()),
        (SignatureStatus::Valid, Some("rsa-key"))
    );

    // A kid that names no key (a rotated JWKS) also falls back to all keys.
    let unknown = sign_rs256("rotated-away", &legacy);
    let t = only(&scan(ks(), &unknown)).token.clone().unwrap();
    assert_eq!(t.verified_key_id.as_deref(), Some("rsa-key"));

    // PS256 with the same RSA key, found by its kid.
    let ps = sign_raw(
        r#"{"alg":"PS256","kid":"rsa-key"}"#,
        &legacy,
        Algorithm::PS256,
        &keys().rsa.private_pem,
    );
    let t = only(&scan(ks(), &ps)).token.clone().unwrap();
    assert_eq!(
        (
            t.algorithm.as_str(),
            t.signature,
            t.verified_key_id.as_deref()
        ),
        ("PS256", SignatureStatus::Valid, Some("rsa-key"))
    );

    // ES256 (P-256) and ES384 (P-384).
    let t = only(&scan(ks(), &app_jwt())).token.clone().unwrap();
    assert_eq!(
        (t.signature, t.verified_key_id.as_deref()),
        (SignatureStatus::Valid, Some("ec-key"))
    );
    let es384 = sign_raw(
        r#"{"alg":"ES384","kid":"p384-key"}"#,
        &json!({"iss": "https://auth.example.com", "sub": "svc-reporting", "exp": 4_102_444_800i64}),
        Algorithm::ES384,
        &p384.private_pem,
    );
    let t = only(&scan(ks(), &es384)).token.clone().unwrap();
    assert_eq!(
        (
            t.algorithm.as_str(),
            t.signature,
            t.verified_key_id.as_deref()
        ),
        ("ES384", SignatureStatus::Valid, Some("p384-key"))
    );

    // A kid that names a key is checked against that key only: signed by another key, it is
    // invalid even though "rsa-key" is in the set.
    let misattributed = sign_raw(
        r#"{"alg":"RS256","kid":"old-key"}"#,
        &legacy,
        Algorithm::RS256,
        &keys().rsa.private_pem,
    );
    let t = only(&scan(ks(), &misattributed)).token.clone().unwrap();
    assert_eq!(t.signature, SignatureStatus::Invalid);
}

#[test]
fn keys_of_another_family_leave_a_token_unverified() {
    // Only EC keys supplied: an RS256 token cannot be checked at all.
    let ks = jwks(&[p256_jwk(&keys().ec.public_pem, "ec-key")]);
    let t = only(&scan(ks, &legacy_token("a", "b", "c-token-d")))
        .token
        .clone()
        .unwrap();
    assert_eq!(t.signature, SignatureStatus::Unverified);
}

#[test]
fn pem_files_with_several_keys_and_private_keys_rejected() {
    let other = new_rsa();
    let bundle = format!("{}\n{}", other.public_pem, keys().ec.public_pem);
    let mut ks = KeySet::new();
    assert_eq!(ks.add_pem(bundle.as_bytes(), "bundle.pem").unwrap(), 2);
    let t = only(&scan(ks, &app_jwt())).token.clone().unwrap();
    assert_eq!(t.signature, SignatureStatus::Valid);

    let err = KeySet::new()
        .add_pem(keys().rsa.private_pem.as_bytes(), "sa.key")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sa.key") && err.contains("not the private one"),
        "{err}"
    );
}
