//! `leakscan scan --jwks / --public-key`: signature status and final severity in the
//! report, `--min-severity` after verification, and clear errors for unusable key files.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;

use common::*;
use serde_json::json;
use support_cli::{json_of, leakscan};

const NOW: &str = "2024-01-01T00:00:00Z";
const NOW_UNIX: i64 = 1_704_067_200;

fn rsa_jwks(kid: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::traits::PublicKeyParts;
    let k = rsa::RsaPublicKey::from_public_key_pem(&keys().rsa.public_pem).unwrap();
    json!({"keys": [{"use": "sig", "kty": "RSA", "kid": kid, "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(k.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(k.e().to_bytes_be())}]})
    .to_string()
}

/// A pod spec dump with a live bound token and an app JWT (signed by a key not supplied).
fn fixture(dir: &std::path::Path) -> String {
    let token = bound_token(
        "payments",
        "api",
        "api-0",
        "https://kubernetes.default.svc.cluster.local",
        NOW_UNIX - 600,
        3600,
    );
    let path = dir.join("debug-dump.txt");
    std::fs::write(
        &path,
        format!(
            "# kubectl exec dump\nTOKEN={token}\nSESSION={}\n",
            app_jwt()
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn jwks_file_verifies_and_min_severity_filters_on_the_final_severity() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture(dir.path());
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, rsa_jwks("prod-2024")).unwrap();
    let jwks = jwks.display().to_string();

    let out = leakscan(&["scan", "-q", "--now", NOW, "--jwks", &jwks, &input]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json_of(&out);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2);
    let bound = &findings[0];
    assert_eq!(bound["rule_id"], "k8s-sa-token-bound");
    assert_eq!(bound["line"], 2);
    assert_eq!(bound["token"]["signature"], "valid");
    assert_eq!(bound["token"]["verified_key_id"], "prod-2024");
    assert_eq!(bound["severity"], "critical");
    let app = &findings[1];
    assert_eq!(app["rule_id"], "jwt");
    // Only an RSA key was supplied: the ES256 token cannot be checked.
    assert_eq!(app["token"]["signature"], "unverified");
    assert!(app["token"].get("verified_key_id").is_none());

    // Only the verified token reaches critical.
    let out = leakscan(&[
        "scan",
        "-q",
        "--now",
        NOW,
        "--jwks",
        &jwks,
        "--min-severity",
        "critical",
        &input,
    ]);
    let doc = json_of(&out);
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["k8s-sa-token-bound"]);
    // Without keys nothing is critical.
    let out = leakscan(&[
        "scan",
        "-q",
        "--now",
        NOW,
        "--min-severity",
        "critical",
        &input,
    ]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn public_key_pem_wrong_key_and_sarif_properties() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture(dir.path());
    let wrong = dir.path().join("other-sa.pub");
    std::fs::write(&wrong, new_rsa().public_pem).unwrap();
    let right = dir.path().join("sa.pub");
    std::fs::write(&right, &keys().rsa.public_pem).unwrap();
    let ec = dir.path().join("app.pub");
    std::fs::write(&ec, &keys().ec.public_pem).unwrap();

    let out = leakscan(&[
        "scan",
        "-q",
        "--now",
        NOW,
        "--public-key",
        wrong.to_str().unwrap(),
        &input,
    ]);
    let doc = json_of(&out);
    assert_eq!(doc["findings"][0]["token"]["signature"], "invalid");
    assert_eq!(doc["findings"][0]["severity"], "high");

    let out = leakscan(&[
        "scan",
        "-q",
        "--now",
        NOW,
        "--format",
        "sarif",
        "--public-key",
        wrong.to_str().unwrap(),
        "--public-key",
        right.to_str().unwrap(),
        "--public-key",
        ec.to_str().unwrap(),
        &input,
    ]);
    let sarif = json_of(&out);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["properties"]["token"]["signature"], "valid", "{r}");
    }
    assert_eq!(results[0]["level"], "error");
    assert_eq!(results[0]["properties"]["severity"], "critical");
}

#[test]
fn unusable_key_files_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture(dir.path());
    let key = dir.path().join("sa.key");
    std::fs::write(&key, &keys().rsa.private_pem).unwrap();
    let out = leakscan(&["scan", "--public-key", key.to_str().unwrap(), &input]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--public-key") && err.contains("not the private one"),
        "{err}"
    );

    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, "{\"keys\": 42}").unwrap();
    let out = leakscan(&["scan", "--jwks", jwks.to_str().unwrap(), &input]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no \"keys\" array"));

    let out = leakscan(&["scan", "--jwks", "/nonexistent/jwks.json", &input]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/jwks.json"));
}
