//! Offline signature verification: a [`KeySet`] of public keys from JWKS documents (the API
//! server's `/openid/v1/jwks`) and PEM files (the cluster's `sa.pub`), checked with
//! `jsonwebtoken`.

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use crate::finding::SignatureStatus;

/// Which algorithms a key can verify; a token is only ever tried against keys of its own
/// family, because `jsonwebtoken` treats a public key as an HMAC secret for `HS*` (the
/// classic algorithm-confusion forgery) and cannot mix RSA components with EC algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Rsa,
    Ec,
    Ed,
}

/// The family of a JWT `alg`, or `None` for `none`, `HS*` and anything unknown: those never
/// count as verified by a public key.
fn family_of(alg: Algorithm) -> Option<Family> {
    match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => Some(Family::Rsa),
        Algorithm::ES256 | Algorithm::ES384 => Some(Family::Ec),
        Algorithm::EdDSA => Some(Family::Ed),
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => None,
    }
}

struct Key {
    /// What a report names when this key verified a token: the `kid`, else `FILE#N`.
    id: String,
    /// The key id tokens refer to (JWKS `kid`, or Kubernetes' id of a PEM public key).
    kid: Option<String>,
    family: Family,
    key: DecodingKey,
}

/// Outcome of [`KeySet::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verification {
    /// `valid`, `invalid` (keys of its kind were tried, none verified) or `unverified`.
    pub status: SignatureStatus,
    /// Id of the key that verified it (`kid`, or `FILE#N` for a PEM key without one).
    pub key_id: Option<String>,
}

impl Verification {
    fn unverified() -> Self {
        Verification {
            status: SignatureStatus::Unverified,
            key_id: None,
        }
    }
}

/// Public keys that may have signed the tokens a scan finds.
#[derive(Default)]
pub struct KeySet {
    keys: Vec<Key>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("KeySet").field("keys", &ids).finish()
    }
}

fn key_error(source: &str, reason: impl Into<String>) -> crate::Error {
    crate::Error::Key {
        path: source.to_owned(),
        reason: reason.into(),
    }
}

/// Kubernetes' key id for a public key: base64url(SHA-256(DER SubjectPublicKeyInfo)), as the
/// API server computes it, so modern tokens find their PEM key by `kid`.
fn kubernetes_kid(spki_der: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    URL_SAFE_NO_PAD.encode(Sha256::digest(spki_der))
}

impl KeySet {
    /// An empty key set (every token stays `unverified`).
    pub fn new() -> Self {
        KeySet::default()
    }

    /// Number of keys loaded.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is loaded.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Reads a JWKS file; returns how many keys it added.
    pub fn load_jwks(&mut self, path: &Path) -> crate::Result<usize> {
        let bytes = std::fs::read(path).map_err(|source| crate::Error::Io {
            path: path.to_owned(),
            source,
        })?;
        self.add_jwks(&bytes, &path.display().to_string())
    }

    /// Reads a PEM file of public keys or certificates; returns how many keys it added.
    pub fn load_pem(&mut self, path: &Path) -> crate::Result<usize> {
        let bytes = std::fs::read(path).map_err(|source| crate::Error::Io {
            path: path.to_owned(),
            source,
        })?;
        self.add_pem(&bytes, &path.display().to_string())
    }

    /// Adds the keys of a JWKS document (`{"keys": [...]}`); `source` names it in errors.
    pub fn add_jwks(&mut self, json: &[u8], source: &str) -> crate::Result<usize> {
        let doc: Value = serde_json::from_slice(json)
            .map_err(|e| key_error(source, format!("not a JWKS JSON document: {e}")))?;
        let Some(keys) = doc.get("keys").and_then(Value::as_array) else {
            return Err(key_error(
                source,
                "not a JWKS document: no \"keys\" array (expected the JSON of /openid/v1/jwks)",
            ));
        };
        let mut added = 0;
        for (i, raw) in keys.iter().enumerate() {
            let label = format!("{source}#{}", i + 1);
            let jwk: Jwk = serde_json::from_value(raw.clone())
                .map_err(|e| key_error(source, format!("key {}: {e}", i + 1)))?;
            let family = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Family::Rsa,
                AlgorithmParameters::EllipticCurve(p) => match p.curve {
                    EllipticCurve::P256 | EllipticCurve::P384 => Family::Ec,
                    ref c => {
                        return Err(key_error(
                            source,
                            format!("key {}: curve {c:?} is not supported (P-256, P-384)", i + 1),
                        ))
                    }
                },
                AlgorithmParameters::OctetKeyPair(_) => Family::Ed,
                AlgorithmParameters::OctetKey(_) => {
                    return Err(key_error(
                        source,
                        format!(
                            "key {}: a symmetric (oct) key cannot prove a public-key signature",
                            i + 1
                        ),
                    ))
                }
            };
            let key = DecodingKey::from_jwk(&jwk)
                .map_err(|e| key_error(source, format!("key {}: {e}", i + 1)))?;
            let kid = jwk.common.key_id.clone().filter(|k| !k.is_empty());
            self.keys.push(Key {
                id: kid.clone().unwrap_or(label),
                kid,
                family,
                key,
            });
            added += 1;
        }
        if added == 0 {
            return Err(key_error(source, "the JWKS document holds no keys"));
        }
        Ok(added)
    }

    /// Adds every public key or certificate in a PEM text; `source` names it in errors.
    pub fn add_pem(&mut self, text: &[u8], source: &str) -> crate::Result<usize> {
        let blocks =
            pem::parse_many(text).map_err(|e| key_error(source, format!("not a PEM file: {e}")))?;
        if blocks.is_empty() {
            return Err(key_error(
                source,
                "no PEM block found (expected e.g. -----BEGIN PUBLIC KEY-----)",
            ));
        }
        let several = blocks.len() > 1;
        for (i, block) in blocks.iter().enumerate() {
            let tag = block.tag();
            if tag.contains("PRIVATE") {
                return Err(key_error(
                    source,
                    format!(
                        "block {} is a {tag}: give the public key (e.g. sa.pub), not the private one",
                        i + 1
                    ),
                ));
            }
            let one = pem::encode(block);
            let (family, key) = if let Ok(k) = DecodingKey::from_rsa_pem(one.as_bytes()) {
                (Family::Rsa, k)
            } else if let Ok(k) = DecodingKey::from_ec_pem(one.as_bytes()) {
                (Family::Ec, k)
            } else if let Ok(k) = DecodingKey::from_ed_pem(one.as_bytes()) {
                (Family::Ed, k)
            } else {
                return Err(key_error(
                    source,
                    format!(
                        "block {} ({tag}) is not an RSA, EC (P-256/P-384) or Ed25519 public key",
                        i + 1
                    ),
                ));
            };
            let kid = (tag == "PUBLIC KEY").then(|| kubernetes_kid(block.contents()));
            let label = if several {
                format!("{source}#{}", i + 1)
            } else {
                source.to_owned()
            };
            self.keys.push(Key {
                id: kid.clone().unwrap_or(label),
                kid,
                family,
                key,
            });
        }
        Ok(blocks.len())
    }

    /// Checks a compact JWT's signature. Only keys of the token's algorithm family are tried:
    /// those whose id equals the token's `kid`, or, when the `kid` is empty or names no key,
    /// every one of them. Claims (expiry, audience) are not judged here.
    pub fn verify(&self, token: &str) -> Verification {
        let Some((message, signature)) = token.rsplit_once('.') else {
            return Verification::unverified();
        };
        // `decode_header` rejects `alg: none` and unknown algorithms.
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return Verification::unverified();
        };
        let Some(family) = family_of(header.alg) else {
            return Verification::unverified();
        };
        let usable: Vec<&Key> = self.keys.iter().filter(|k| k.family == family).collect();
        if usable.is_empty() {
            return Verification::unverified();
        }
        let kid = header.kid.as_deref().filter(|k| !k.is_empty());
        let named: Vec<&Key> = usable
            .iter()
            .copied()
            .filter(|k| kid.is_some() && k.kid.as_deref() == kid)
            .collect();
        let tried = if named.is_empty() { usable } else { named };
        for k in tried {
            if jsonwebtoken::crypto::verify(signature, message.as_bytes(), &k.key, header.alg)
                .unwrap_or(false)
            {
                return Verification {
                    status: SignatureStatus::Valid,
                    key_id: Some(k.id.clone()),
                };
            }
        }
        Verification {
            status: SignatureStatus::Invalid,
            key_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_key_files_say_why() {
        let mut ks = KeySet::new();
        let e = ks.add_jwks(b"{\"kty\":\"RSA\"}", "jwks.json").unwrap_err();
        assert!(e.to_string().contains("no \"keys\" array"), "{e}");
        let e = ks.add_jwks(b"not json", "jwks.json").unwrap_err();
        assert!(e.to_string().starts_with("key file jwks.json:"), "{e}");
        let e = ks
            .add_jwks(br#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#, "j")
            .unwrap_err();
        assert!(e.to_string().contains("symmetric"), "{e}");
        let e = ks.add_pem(b"hello", "sa.pub").unwrap_err();
        assert!(e.to_string().contains("no PEM block"), "{e}");
        assert!(ks.is_empty());
    }

    #[test]
    fn garbage_tokens_stay_unverified() {
        let ks = KeySet::new();
        assert_eq!(ks.verify("a.b.c").status, SignatureStatus::Unverified);
        assert_eq!(ks.verify("no dots").status, SignatureStatus::Unverified);
    }
}
