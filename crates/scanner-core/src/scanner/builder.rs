//! Building a [`Scanner`]: time, chunking, decode budget, configuration, keys.

use std::sync::Arc;

use super::{Scanner, DEFAULT_CHUNK};
use crate::config::Config;
use crate::fingerprint::{self, Fingerprinter};
use crate::prefilter::Prefilter;
use crate::verify::KeySet;
use crate::CHUNK_OVERLAP;

/// Builds a [`Scanner`].
#[derive(Debug, Clone, Default)]
pub struct ScannerBuilder {
    now: Option<i64>,
    chunk_size: Option<usize>,
    decode_budget: Option<usize>,
    config: Option<Arc<Config>>,
    keys: Option<Arc<KeySet>>,
    fingerprint_key: Option<fingerprint::Key>,
}

impl ScannerBuilder {
    /// Keys fingerprints with `key` (HMAC): reports and baselines then give nothing to
    /// anyone without it. Keep it with the project's secrets (CI variable); the same key
    /// gives the same fingerprints on every machine.
    pub fn fingerprint_key(mut self, key: &[u8]) -> Self {
        self.fingerprint_key = Some(fingerprint::Key(key.to_vec()));
        self
    }

    /// Caps the decoded bytes one scan call may produce (default: 8 MiB plus four per input
    /// byte, which three levels of decoding never need). Text left undecoded beyond it is
    /// reported to the sink as `decode-budget`, never skipped silently.
    pub fn decode_budget(mut self, bytes: usize) -> Self {
        self.decode_budget = Some(bytes);
        self
    }

    /// Fixes "now" (Unix seconds) for expiry checks, for reproducible runs.
    pub fn now(mut self, unix_secs: i64) -> Self {
        self.now = Some(unix_secs);
        self
    }

    /// Fixes "now" from an RFC 3339 timestamp.
    pub fn now_rfc3339(self, ts: &str) -> crate::Result<Self> {
        let t = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
            .map_err(|_| crate::Error::Time(ts.to_owned()))?;
        Ok(self.now(t.unix_timestamp()))
    }

    /// Chunk size for [`Scanner::scan_reader`] (at least `2 * CHUNK_OVERLAP`).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = Some(bytes.max(2 * CHUNK_OVERLAP));
        self
    }

    /// Adds a configuration: custom rules, allowlists, disabled rules, severity overrides.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(Arc::new(config));
        self
    }

    /// Public keys to verify JWT signatures with (`token.signature`); without them every
    /// token stays `unverified`.
    pub fn keys(mut self, keys: KeySet) -> Self {
        self.keys = (!keys.is_empty()).then(|| Arc::new(keys));
        self
    }

    /// Compiles the rules into a scanner.
    pub fn build(self) -> crate::Result<Scanner> {
        let custom = self
            .config
            .as_ref()
            .map_or_else(Vec::new, |c| c.rules.keywords());
        let prefilter = Prefilter::new(&custom).map_err(|e| crate::Error::Rule {
            id: "prefilter".into(),
            reason: e.to_string(),
        })?;
        Ok(Scanner {
            prefilter,
            now: self.now,
            chunk_size: self.chunk_size.unwrap_or(DEFAULT_CHUNK),
            decode_budget: self.decode_budget,
            config: self.config,
            keys: self.keys,
            fingerprints: Fingerprinter::new(self.fingerprint_key.as_ref().map(|k| &k.0[..])),
        })
    }
}
