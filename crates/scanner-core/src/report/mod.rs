//! Rendering a finished scan: findings plus run statistics and errors.
//!
//! Every renderer redacts secrets unless [`ReportOptions::show_secrets`] is set.

mod escape;
pub(crate) mod html;
mod json;
pub mod merge;
mod provenance;
mod sarif;
mod spool;
mod text;

pub use escape::terminal_safe;
pub use html::write_html;
pub use json::{write_json, write_jsonl_finding};
pub use merge::{MergeError, MergeSummary, Merger};
pub use provenance::{ConfigDigest, Tool};
pub(crate) use sarif::uri;
pub use sarif::write_sarif;
pub use spool::Spool;
pub use text::write_text;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

/// Output formats the CLI offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Grouped, human-readable text.
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per line, streamed while scanning.
    Jsonl,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
    /// One self-contained HTML page, grouped by credential.
    Html,
}

/// Something that went wrong with one input; the scan went on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScanError {
    /// The input (path, `ARCHIVE!/MEMBER`, commit:path ...).
    pub path: String,
    /// What went wrong; serialized as its kebab-case name, e.g. `zip-bomb`.
    pub kind: crate::Problem,
    /// Human-readable message.
    pub message: String,
    /// The repository `path` is in (`leakscan git` of several repositories, merged
    /// reports), as findings name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

impl ScanError {
    /// `REPOSITORY: path`, or the path alone when no repository is named (or the error is
    /// about the repository itself).
    pub fn location(&self) -> std::borrow::Cow<'_, str> {
        match &self.repository {
            Some(r) if *r != self.path => format!("{r}: {}", self.path).into(),
            _ => self.path.as_str().into(),
        }
    }
}

/// Counters for one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunStats {
    /// Inputs scanned (files, archive members, blobs).
    pub files: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Inputs left out on purpose (binary, links not followed, special files in a tree).
    pub skipped: u64,
    /// Inputs that could not be read, or only in part (corrupt, encrypted, zip bomb, too
    /// large, truncated, missing objects ...): where a token may still hide.
    pub incomplete: u64,
    /// True when nothing the scan was asked to read was left unread (`incomplete == 0`).
    pub complete: bool,
    /// Wall time in seconds.
    pub elapsed_secs: f64,
    /// Findings reported (after suppression): locations of credentials.
    pub findings: u64,
    /// Distinct credentials among them (by `credential_id`).
    #[serde(default)]
    pub credentials: u64,
    /// Findings suppressed by baseline, inline allow or config.
    pub suppressed: u64,
    /// The `skipped` and `incomplete` inputs by kind (`binary`, `too-large`, `zip-bomb`
    /// ...); the counts add up to `skipped + incomplete`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// Commits walked (git scans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<u64>,
}

impl RunStats {
    /// Throughput in MB/s (10^6 bytes), 0 when no time elapsed.
    pub fn mb_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.bytes as f64 / 1e6 / self.elapsed_secs
        } else {
            0.0
        }
    }
}

/// Everything a renderer needs.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Findings in report order.
    pub findings: Vec<Finding>,
    /// Run counters.
    pub stats: RunStats,
    /// Inputs that could not be (fully) scanned.
    pub errors: Vec<ScanError>,
    /// The run's [`ConfigDigest`], written as the JSON report's `config_digest` (and in
    /// SARIF's invocation properties) so `leakscan merge` can tell reports apart.
    pub config_digest: Option<String>,
}

/// Knobs shared by all renderers.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportOptions {
    /// Print secrets unredacted.
    pub show_secrets: bool,
    /// Use ANSI colour (text format only).
    pub color: bool,
}

/// The secret as it should appear in output under `opts`.
pub(crate) fn shown_secret(f: &Finding, opts: &ReportOptions) -> String {
    if opts.show_secrets {
        f.secret.expose().to_string()
    } else {
        f.secret.redacted()
    }
}

/// Sorts findings into a stable report order: path, line, column, rule.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.path.as_str(), a.line, a.column, a.rule_id.as_str()).cmp(&(
            b.path.as_str(),
            b.line,
            b.column,
            b.rule_id.as_str(),
        ))
    });
}
