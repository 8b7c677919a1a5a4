//! Fingerprints: stable across runs, machines and clones, yet no help to anyone who holds a
//! report or baseline and wants to confirm a guessed secret offline.
//!
//! A fingerprint hashes rule id, path and a *digest* of the secret. The digest is keyed
//! (HMAC-SHA-256) when the user supplies a key (`LEAKSCAN_FINGERPRINT_KEY`), which makes
//! every guess need the key. Without a key, a secret that could be guessed (a password, a
//! short token: under 128 estimated bits) is digested with Argon2id (19 MiB, 2 passes), so
//! each guess costs tens of milliseconds and memory instead of nanoseconds; a secret too
//! random to guess (a JWT, a 32-character token) gets a plain domain-separated SHA-256.

use std::collections::HashMap;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Separates leakscan's hashes from any other use of the same secret.
const DOMAIN: &[u8] = b"leakscan-fingerprint-v2";

/// Secrets estimated below this many bits are treated as guessable.
const GUESSABLE_BITS: f64 = 128.0;

/// Argon2id cost for guessable secrets without a key (OWASP's minimum for passwords).
const ARGON2_KIB: u32 = 19 * 1024;
const ARGON2_PASSES: u32 = 2;

/// A fingerprint key; never printed.
#[derive(Clone)]
pub(crate) struct Key(pub Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// Turns secrets into digests for fingerprints; one per [`Scanner`](crate::Scanner).
pub(crate) struct Fingerprinter {
    key: Option<[u8; 32]>,
    /// Argon2id digests of guessable secrets already seen in this run.
    slow: Mutex<HashMap<[u8; 32], [u8; 32]>>,
}

impl Fingerprinter {
    /// A fingerprinter keyed with `key` (any length; hashed to 32 bytes), or unkeyed.
    pub(crate) fn new(key: Option<&[u8]>) -> Fingerprinter {
        Fingerprinter {
            key: key.map(|k| sha256(&[DOMAIN, b"key", k])),
            slow: Mutex::new(HashMap::new()),
        }
    }

    /// The digest of `secret` that fingerprints are made of.
    pub(crate) fn secret_digest(&self, secret: &str) -> [u8; 32] {
        if let Some(key) = &self.key {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
            mac.update(secret.as_bytes());
            return mac.finalize().into_bytes().into();
        }
        let fast = sha256(&[DOMAIN, secret.as_bytes()]);
        if !guessable(secret) {
            return fast;
        }
        if let Some(d) = self.lock().get(&fast) {
            return *d;
        }
        let d = argon2id(secret.as_bytes());
        self.lock().insert(fast, d);
        d
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], [u8; 32]>> {
        self.slow.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The fingerprint of a finding: the first 128 bits, in hex, of a hash over the secret's
/// digest, the rule id and the path.
pub(crate) fn fingerprint(digest: &[u8; 32], rule_id: &str, path: &str) -> String {
    let h = sha256(&[
        DOMAIN,
        digest,
        b"\0",
        rule_id.as_bytes(),
        b"\0",
        path.as_bytes(),
    ]);
    hex(&h[..16])
}

/// The id of the credential itself, the same wherever it is found (any rule, path, commit
/// or repository): the first 128 bits, in hex, of a hash over the secret's digest alone, so
/// it inherits the digest's resistance to offline guessing.
pub(crate) fn credential_id(digest: &[u8; 32]) -> String {
    let h = sha256(&[DOMAIN, b"credential\0", digest]);
    hex(&h[..16])
}

/// The unkeyed fingerprint of leakscan 0.1 (SHA-256 of rule id, secret and path), which a
/// guess can confirm. Baselines written with it are still honoured; new ones never hold it.
pub(crate) fn legacy_v1(rule_id: &str, secret: &str, path: &str) -> String {
    let h = sha256(&[
        rule_id.as_bytes(),
        b"\0",
        secret.as_bytes(),
        b"\0",
        path.as_bytes(),
        b"\0",
    ]);
    hex(&h[..16])
}

/// Whether `secret` is weak enough to be guessed: its length times the bits per character
/// of the character classes it uses is under [`GUESSABLE_BITS`].
pub fn guessable(secret: &str) -> bool {
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    for c in secret.chars() {
        match c {
            'a'..='z' => lower = true,
            'A'..='Z' => upper = true,
            '0'..='9' => digit = true,
            _ => other = true,
        }
    }
    let alphabet = 26 * u32::from(lower)
        + 26 * u32::from(upper)
        + 10 * u32::from(digit)
        + 33 * u32::from(other);
    let bits = secret.chars().count() as f64 * f64::from(alphabet.max(2)).log2();
    bits < GUESSABLE_BITS
}

fn argon2id(secret: &[u8]) -> [u8; 32] {
    use argon2::{Algorithm, Argon2, Params, Version};
    let params =
        Params::new(ARGON2_KIB, ARGON2_PASSES, 1, Some(32)).expect("valid Argon2 parameters");
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(secret, DOMAIN, &mut out)
        .expect("Argon2 accepts any password and a 23-byte salt");
    out
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_guessable_tokens_are_not() {
        assert!(guessable("hunter2"));
        assert!(guessable("Summer2024!"));
        assert!(!guessable("8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c"));
        assert!(!guessable(&"eyJhbGciOiJSUzI1NiJ9.".repeat(10)));
    }

    #[test]
    fn digests_are_stable_and_depend_on_the_key() {
        let (a, b) = (Fingerprinter::new(None), Fingerprinter::new(None));
        for s in ["hunter2", "8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c"] {
            assert_eq!(
                a.secret_digest(s),
                b.secret_digest(s),
                "stable across scanners"
            );
            let keyed = Fingerprinter::new(Some(b"team key")).secret_digest(s);
            assert_ne!(keyed, a.secret_digest(s));
            assert_ne!(keyed, Fingerprinter::new(Some(b"other")).secret_digest(s));
        }
        // The slow digest of a password is not its fast hash.
        assert_ne!(a.secret_digest("hunter2"), sha256(&[DOMAIN, b"hunter2"]));
    }
}
