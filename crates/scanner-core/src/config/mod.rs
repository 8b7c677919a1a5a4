//! Configuration files: leakscan's own `leakscan.toml` and gitleaks-format TOML.
//!
//! Both load into one [`Config`]: custom rules (run through the prefilter like the built-in
//! ones), allowlists, disabled rules and severity overrides. Hand it to
//! [`crate::ScannerBuilder::config`].
//!
//! ```
//! use scanner_core::{config::Config, Origin, Scanner};
//!
//! let toml = r#"
//! [[custom]]
//! id = "acme-api-key"
//! regex = 'acme_[a-z0-9]{32}'
//! keywords = ["acme_"]
//! "#;
//! let config = Config::parse(toml, "leakscan.toml".as_ref()).unwrap();
//! let scanner = Scanner::builder().config(config).build().unwrap();
//! let found = scanner.scan_bytes(b"key = acme_8f3k2m9x7q1w5e4r6t0y2u8i3o9p1a7s\n", &Origin::path("app.env"));
//! assert_eq!(found[0].rule_id, "acme-api-key");
//! ```

mod gitleaks;
mod leakscan;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::allowlist::Policy;
use crate::error::{Error, Result};
use crate::finding::Severity;
use crate::rules::custom::CustomRules;

/// File name looked for at the scan root and the repository root.
pub const FILE_NAME: &str = "leakscan.toml";

/// Which format a configuration file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigFormat {
    /// leakscan.toml (strict: unknown keys are errors).
    Leakscan,
    /// gitleaks TOML (lenient: unknown keys are ignored, bad rules skipped).
    Gitleaks,
}

/// A rule of an imported file that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedRule {
    /// The rule's id (or the allowlist's place in the file).
    pub id: String,
    /// Why it was skipped.
    pub reason: String,
}

/// A custom rule as `leakscan rules --config` lists it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RuleSummary {
    /// Rule id.
    pub id: String,
    /// One-line description.
    pub description: String,
    /// Severity of its findings.
    pub severity: Severity,
}

/// A loaded, compiled configuration.
#[derive(Clone)]
pub struct Config {
    path: PathBuf,
    format: ConfigFormat,
    pub(crate) rules: CustomRules,
    pub(crate) policy: Policy,
    skipped: Vec<SkippedRule>,
    /// SHA-256 over the text of this file and of every file it extends, in order: what
    /// the report's `config_digest` is made of (not the path, which differs per machine).
    digest: [u8; 32],
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("custom_rules", &self.rules.rules.len())
            .field("skipped", &self.skipped.len())
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads and compiles a configuration file (either format).
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Compiles configuration text; `path` names the file in error messages (and is where
    /// a leakscan.toml's `extends` is resolved from).
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        parse_at(text, path, 0)
    }

    /// The file this configuration came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format it was read as.
    pub fn format(&self) -> ConfigFormat {
        self.format
    }

    /// Rules of an imported gitleaks file that were not loaded, with the reason.
    pub fn skipped(&self) -> &[SkippedRule] {
        &self.skipped
    }

    /// The custom rules, in file order.
    pub fn custom_rules(&self) -> Vec<RuleSummary> {
        self.rules
            .rules
            .iter()
            .map(|r| RuleSummary {
                id: r.id.clone(),
                description: r.description.clone(),
                severity: self
                    .policy
                    .severity
                    .get(&r.id)
                    .copied()
                    .unwrap_or(r.severity),
            })
            .collect()
    }

    /// SHA-256 of the configuration's text and of the files it extends: two runs with the
    /// same digest used the same rules and allowlists, wherever the files lay.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// Built-in or custom rules this configuration turns off.
    pub fn disabled_rules(&self) -> Vec<String> {
        let mut v: Vec<String> = self.policy.disabled.iter().cloned().collect();
        v.sort();
        v
    }

    /// The severity this configuration gives `rule_id`, if it overrides it.
    pub fn severity_override(&self, rule_id: &str) -> Option<Severity> {
        self.policy.severity.get(rule_id).copied()
    }
}

/// The digest of a file's `text` layered on its base's digest (`extends`).
pub(crate) fn text_digest(format: &str, text: &str, base: Option<[u8; 32]>) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"leakscan-config-v1\0");
    h.update(format.as_bytes());
    h.update((text.len() as u64).to_be_bytes());
    h.update(text.as_bytes());
    if let Some(b) = base {
        h.update(b"extends\0");
        h.update(b);
    }
    h.finalize().into()
}

/// Parses either format; `depth` counts the `extends` links followed so far.
fn parse_at(text: &str, path: &Path, depth: usize) -> Result<Config> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    if gitleaks::looks_like(&doc) {
        gitleaks::parse(text, path)
    } else {
        leakscan::parse(text, path, depth)
    }
}

/// Finds the configuration to use when `--config` is not given: `leakscan.toml` in `root`
/// (the scan root), else in the root of the git work tree that contains `root`.
pub fn discover(root: &Path) -> Option<PathBuf> {
    let root = std::fs::canonicalize(root).ok()?;
    let dir = if root.is_dir() {
        root
    } else {
        root.parent()?.to_owned()
    };
    let here = dir.join(FILE_NAME);
    if here.is_file() {
        return Some(here);
    }
    let repo = dir.ancestors().find(|d| d.join(".git").exists())?;
    let there = repo.join(FILE_NAME);
    there.is_file().then_some(there)
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let mut at = offset;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// An [`Error::Config`] at byte range `span` of `text`.
pub(crate) fn error_at(
    path: &Path,
    text: &str,
    span: Range<usize>,
    message: impl Into<String>,
) -> Error {
    let (line, column) = line_col(text, span.start);
    Error::Config {
        path: path.to_owned(),
        line,
        column,
        message: message.into(),
    }
}

/// Converts a TOML syntax or shape error, keeping its position.
pub(crate) fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let message = e.message().trim().to_owned();
    error_at(path, text, e.span().unwrap_or(0..0), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_of_offsets() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        // After the two-byte `é`: third character.
        assert_eq!(line_col(text, 9), (2, 3));
    }
}
