//! What made a report: the leakscan version (`tool`) and a digest of the configuration
//! that decides its findings (`config_digest`). `leakscan merge` joins only reports that
//! agree on both, since findings of different rules, allowlists or fingerprint keys cannot
//! be de-duplicated or grouped with each other.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::rules::BUILTIN_RULES;

/// The JSON report's `tool` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// Always `leakscan`.
    pub name: String,
    /// The library's version (`CARGO_PKG_VERSION`).
    pub version: String,
}

impl Tool {
    /// This leakscan.
    pub fn current() -> Tool {
        Tool {
            name: "leakscan".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Builds a report's `config_digest`: SHA-256 over the built-in rules (id, severity,
/// description), the configuration file's text and its `extends` chain, the fingerprint
/// key (hashed, so the digest gives nothing about it) and named options that change which
/// findings a run reports (a minimum severity, a baseline ...). Paths play no part: the
/// same files on two machines give one digest.
#[derive(Clone)]
pub struct ConfigDigest {
    hash: Sha256,
}

impl std::fmt::Debug for ConfigDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfigDigest")
    }
}

impl Default for ConfigDigest {
    fn default() -> Self {
        Self::new()
    }
}

impl ConfigDigest {
    /// A digest of the built-in rules alone.
    pub fn new() -> ConfigDigest {
        let mut d = ConfigDigest {
            hash: Sha256::new(),
        };
        d.field("digest", "leakscan-config-digest-v1");
        for r in BUILTIN_RULES {
            d.field("rule", r.id);
            d.field("severity", r.severity.as_str());
            d.field("description", r.description);
        }
        d
    }

    /// Length-prefixed, so no two sequences of fields hash alike.
    fn field(&mut self, name: &str, value: &str) {
        for part in [name, value] {
            self.hash.update((part.len() as u64).to_be_bytes());
            self.hash.update(part.as_bytes());
        }
    }

    /// Adds the configuration (custom rules, allowlists, overrides) by its text.
    pub fn config(mut self, config: &Config) -> Self {
        self.field("config", &hex(&config.digest()));
        self
    }

    /// Adds the fingerprint key: reports keyed differently share no fingerprint or
    /// credential id, so they must not be merged.
    pub fn fingerprint_key(mut self, key: &[u8]) -> Self {
        let check = Sha256::new()
            .chain_update(b"leakscan-fingerprint-key-check")
            .chain_update(key)
            .finalize();
        self.field("fingerprint-key", &hex(&check));
        self
    }

    /// Adds an option by name and value, e.g. `("min-severity", "high")`.
    pub fn option(mut self, name: &str, value: &str) -> Self {
        self.field("option", name);
        self.field("value", value);
        self
    }

    /// `sha256:` and 64 hex digits.
    pub fn finish(self) -> String {
        format!("sha256:{}", hex(&self.hash.finalize()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_input_changes_the_digest_and_none_depends_on_paths() {
        let base = ConfigDigest::new().finish();
        assert_eq!(base, ConfigDigest::new().finish());
        assert!(
            base.starts_with("sha256:") && base.len() == 7 + 64,
            "{base}"
        );
        let text = "[rules.jwt]\nenabled = false\n";
        let a = Config::parse(text, "/a/leakscan.toml".as_ref()).unwrap();
        let b = Config::parse(text, "/elsewhere/leakscan.toml".as_ref()).unwrap();
        let c = Config::parse("[rules.jwt]\nseverity = \"low\"\n", "x".as_ref()).unwrap();
        let with = |c: &Config| ConfigDigest::new().config(c).finish();
        assert_eq!(with(&a), with(&b), "the path is not part of it");
        assert_ne!(with(&a), with(&c));
        assert_ne!(with(&a), base);
        let k1 = ConfigDigest::new()
            .fingerprint_key(b"0123456789abcdef")
            .finish();
        let k2 = ConfigDigest::new()
            .fingerprint_key(b"0123456789abcdeg")
            .finish();
        assert_ne!(k1, k2);
        assert_ne!(k1, base);
        assert!(!k1.contains("0123456789abcdef"));
        // Field boundaries count: ("ab", "c") is not ("a", "bc").
        let o1 = ConfigDigest::new().option("ab", "c").finish();
        let o2 = ConfigDigest::new().option("a", "bc").finish();
        assert_ne!(o1, o2);
    }
}
