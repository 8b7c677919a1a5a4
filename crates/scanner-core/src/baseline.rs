//! Baselines: the fingerprints of findings a team has accepted, so that only new findings
//! fail a build. The file names each accepted finding (rule, path, line) for reviewers but
//! never holds a secret, not even redacted.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

/// Format version written into every baseline file.
pub const BASELINE_VERSION: u32 = 1;

/// One accepted finding, as stored in the file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    /// The finding's stable fingerprint (rule id + secret + path, hashed).
    pub fingerprint: String,
    /// Rule id, for people reading the file.
    pub rule_id: String,
    /// Path, for people reading the file.
    pub path: String,
    /// Line when the baseline was made (informational: matching uses the fingerprint).
    pub line: usize,
}

/// The on-disk document.
#[derive(Debug, Serialize, Deserialize)]
struct Document {
    version: u32,
    tool: String,
    findings: Vec<Entry>,
}

/// A set of accepted fingerprints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: BTreeSet<Entry>,
    fingerprints: BTreeSet<String>,
}

/// Why a baseline file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// Reading failed.
    #[error("reading the baseline: {0}")]
    Io(#[from] std::io::Error),
    /// Not a leakscan baseline document.
    #[error("not a leakscan baseline (expected {{\"version\": 1, \"findings\": [...]}}): {0}")]
    Format(#[from] serde_json::Error),
    /// Written by a newer leakscan.
    #[error("baseline format version {0} is not supported (this leakscan reads version {BASELINE_VERSION})")]
    Version(u32),
}

impl Baseline {
    /// The baseline that accepts exactly `findings`.
    pub fn from_findings<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Baseline {
        let mut b = Baseline::default();
        for f in findings {
            b.insert(f);
        }
        b
    }

    /// Accepts one more finding.
    pub fn insert(&mut self, f: &Finding) {
        self.fingerprints.insert(f.fingerprint.clone());
        self.entries.insert(Entry {
            fingerprint: f.fingerprint.clone(),
            rule_id: f.rule_id.clone(),
            path: f.path.clone(),
            line: f.line,
        });
    }

    /// Reads a baseline document.
    pub fn read(mut r: impl Read) -> Result<Baseline, BaselineError> {
        let mut text = String::new();
        r.read_to_string(&mut text)?;
        let doc: Document = serde_json::from_str(&text)?;
        if doc.version > BASELINE_VERSION {
            return Err(BaselineError::Version(doc.version));
        }
        let mut b = Baseline::default();
        for e in doc.findings {
            b.fingerprints.insert(e.fingerprint.clone());
            b.entries.insert(e);
        }
        Ok(b)
    }

    /// Reads the baseline at `path`.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        Baseline::read(std::fs::File::open(path)?)
    }

    /// Writes the document, sorted so that re-creating an unchanged baseline changes nothing.
    pub fn write(&self, mut w: impl Write) -> std::io::Result<()> {
        let mut findings: Vec<Entry> = self.entries.iter().cloned().collect();
        findings.sort_by(|a, b| {
            (&a.path, a.line, &a.rule_id, &a.fingerprint).cmp(&(
                &b.path,
                b.line,
                &b.rule_id,
                &b.fingerprint,
            ))
        });
        let doc = Document {
            version: BASELINE_VERSION,
            tool: "leakscan".to_owned(),
            findings,
        };
        serde_json::to_writer_pretty(&mut w, &doc)?;
        w.write_all(b"\n")
    }

    /// Whether `finding` was accepted.
    pub fn contains(&self, finding: &Finding) -> bool {
        self.fingerprints.contains(&finding.fingerprint)
            || self.fingerprints.contains(&finding.legacy_fingerprint())
    }

    /// Number of accepted fingerprints.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// True when nothing is accepted.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Origin, Scanner};

    #[test]
    fn round_trip_keeps_fingerprints_and_no_secret() {
        let text = b"users:\n- name: ops\n  user:\n    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c\n";
        let findings = Scanner::new().scan_bytes(text, &Origin::path("ops.kubeconfig"));
        assert_eq!(findings.len(), 1);
        let b = Baseline::from_findings(&findings);
        let mut out = Vec::new();
        b.write(&mut out).unwrap();
        let s = String::from_utf8(out.clone()).unwrap();
        assert!(!s.contains("8d4f1c7a"), "secret in baseline: {s}");
        assert!(s.contains("\"rule_id\": \"kubeconfig-token\""));
        let back = Baseline::read(&out[..]).unwrap();
        assert!(back.contains(&findings[0]));
        assert_eq!(back, b);
    }

    #[test]
    fn rejects_other_documents() {
        assert!(matches!(
            Baseline::read(&b"{\"findings\": 3}"[..]),
            Err(BaselineError::Format(_))
        ));
        assert!(matches!(
            Baseline::read(&b"{\"version\": 9, \"tool\": \"leakscan\", \"findings\": []}"[..]),
            Err(BaselineError::Version(9))
        ));
    }
}
