//! "Was it used?": which credentials of a leakscan report appear in Kubernetes audit logs
//! (`audit.k8s.io/v1` Event lines, plain or gzip), what they did, and whether after they
//! leaked.
//!
//! ```no_run
//! use scanner_core::audit::{Audit, AuditOptions};
//!
//! let report = std::fs::read("leakscan.json")?;
//! let mut audit = Audit::new(&report, AuditOptions::default())?;
//! audit.read_path(std::path::Path::new("/var/log/kubernetes/audit.log"));
//! let result = audit.finish();
//! for c in &result.credentials {
//!     println!("{} {} requests", c.leak.identity, c.usage.requests);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The report's secrets are never needed (nor read): bound tokens are found by their
//! `jti`, legacy tokens by their ServiceAccount and Secret, bootstrap tokens by their
//! public id, client certificates by their digest.

mod event;
mod leaks;
mod matcher;
mod render;
mod stamp;
mod stream;
mod summary;

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

pub use event::Event;
pub use leaks::{read_report, Leak, LookupKey, Place};
pub use matcher::{Hit, HitKind, Matcher, Request};
pub use render::{write_html, write_json, write_sarif, write_text};
pub use stamp::Stamp;
pub use stream::{Compression, LogStats, MAX_LINE};
pub use summary::{Listed, Observation, Summary, Tally, Usage};

/// What can stop an audit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The report is not a leakscan JSON or JSONL report.
    #[error("not a leakscan JSON report: {0}")]
    ReportFormat(String),
    /// The identifiers looked for did not compile into a search automaton.
    #[error("building the search for the report's identifiers: {0}")]
    Matcher(String),
    /// The worker threads could not be started.
    #[error("starting worker threads: {0}")]
    Threads(String),
}

/// Knobs of an audit.
#[derive(Debug, Clone, Copy)]
pub struct AuditOptions {
    /// When the credentials leaked, for those whose report gives no commit date (and for
    /// the others if earlier).
    pub leaked_at: Option<Stamp>,
    /// Requests listed per kind (uses after the leak, Secrets read ...); the rest counted.
    pub list_limit: usize,
    /// Worker threads searching the logs (0: one per core).
    pub threads: usize,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            leaked_at: None,
            list_limit: 100,
            threads: 0,
        }
    }
}

/// An audit under way: the report's credentials, and what the logs read so far say.
#[derive(Debug)]
pub struct Audit {
    opts: AuditOptions,
    leaks: Vec<Leak>,
    matcher: Matcher,
    summary: Summary,
    logs: Vec<LogStats>,
    pool: rayon::ThreadPool,
    started: Instant,
}

impl Audit {
    /// Reads the credentials of `report` (a leakscan JSON or JSONL report).
    pub fn new(report: &[u8], opts: AuditOptions) -> Result<Audit, AuditError> {
        let leaks = read_report(report, opts.leaked_at)?;
        let matcher = Matcher::new(&leaks)?;
        let summary = Summary::new(leaks.iter().map(|l| l.leaked).collect(), opts.list_limit);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .thread_name(|i| format!("leakscan-audit-{i}"))
            .build()
            .map_err(|e| AuditError::Threads(e.to_string()))?;
        Ok(Audit {
            pool,
            opts,
            leaks,
            matcher,
            summary,
            logs: Vec::new(),
            started: Instant::now(),
        })
    }

    /// The report's credentials.
    pub fn leaks(&self) -> &[Leak] {
        &self.leaks
    }

    /// Reads one log (`-`: standard input); a log that cannot be opened or read to its
    /// end is recorded in its [`LogStats::error`], and the audit goes on.
    pub fn read_path(&mut self, path: &Path) -> &LogStats {
        let label = path.display().to_string();
        match stream::open(path) {
            Ok((mut r, compression)) => self.read_stream(label, compression, &mut *r),
            Err(e) => {
                let mut s = LogStats::new(label, Compression::None);
                s.error = Some(e.to_string());
                self.logs.push(s);
                self.logs.last().expect("just pushed")
            }
        }
    }

    /// Reads one log from `reader`, already decompressed.
    pub fn read_stream(
        &mut self,
        label: impl Into<String>,
        compression: Compression,
        reader: &mut (dyn Read + Send),
    ) -> &LogStats {
        let mut stats = LogStats::new(label, compression);
        let (matcher, summary) = (&self.matcher, &mut self.summary);
        self.pool
            .install(|| stream::scan(reader, matcher, summary, &mut stats));
        self.logs.push(stats);
        self.logs.last().expect("just pushed")
    }

    /// What the logs said about each credential.
    pub fn finish(self) -> AuditReport {
        let elapsed = self.started.elapsed().as_secs_f64();
        let (usages, evicted) = self.summary.finish_with_evictions();
        let credentials: Vec<CredentialUsage> = self
            .leaks
            .into_iter()
            .zip(usages)
            .map(|(leak, usage)| CredentialUsage {
                used: usage.requests > 0,
                used_after_leak: usage.after_leak.total > 0,
                leaked_at: leak.leaked,
                leaked_at_source: leak.leaked_source.clone(),
                leak,
                usage,
            })
            .collect();
        let bytes: u64 = self.logs.iter().map(|l| l.bytes).sum();
        let stats = AuditStats {
            logs: self.logs.len() as u64,
            bytes,
            lines: self.logs.iter().map(|l| l.lines).sum(),
            malformed: self.logs.iter().map(|l| l.malformed).sum(),
            parsed: self.logs.iter().map(|l| l.parsed).sum(),
            matched: self.logs.iter().map(|l| l.matched).sum(),
            unreadable: self.logs.iter().filter(|l| l.error.is_some()).count() as u64,
            pending_evicted: evicted,
            credentials: credentials.len() as u64,
            matchable: credentials.iter().filter(|c| c.leak.key.is_some()).count() as u64,
            used: credentials.iter().filter(|c| c.used).count() as u64,
            used_after_leak: credentials.iter().filter(|c| c.used_after_leak).count() as u64,
            elapsed_secs: elapsed,
            mb_per_sec: if elapsed > 0.0 {
                bytes as f64 / 1e6 / elapsed
            } else {
                0.0
            },
        };
        AuditReport {
            version: env!("CARGO_PKG_VERSION"),
            leaked_at: self.opts.leaked_at,
            stats,
            logs: self.logs,
            credentials,
        }
    }
}

/// One credential of the report and what the logs say it did.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialUsage {
    /// The credential.
    #[serde(flatten)]
    pub leak: Leak,
    /// When it leaked, if known.
    pub leaked_at: Option<Stamp>,
    /// Where `leaked_at` comes from (`commit …`, `--leaked-at`).
    pub leaked_at_source: Option<String>,
    /// Whether any request used it.
    pub used: bool,
    /// Whether a request used it at or after `leaked_at`.
    pub used_after_leak: bool,
    /// What the requests did.
    #[serde(flatten)]
    pub usage: Usage,
}

/// Totals of an audit.
#[derive(Debug, Clone, Serialize)]
pub struct AuditStats {
    /// Logs given.
    pub logs: u64,
    /// Bytes of JSON lines read (after decompression).
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Malformed lines (see [`LogStats::malformed`]).
    pub malformed: u64,
    /// Lines parsed in full.
    pub parsed: u64,
    /// Events that involve a credential of the report.
    pub matched: u64,
    /// Logs that could not be opened or read to their end.
    pub unreadable: u64,
    /// Early stages counted alone because too many requests were in flight.
    pub pending_evicted: u64,
    /// Credentials in the report.
    pub credentials: u64,
    /// Those the audit log can name.
    pub matchable: u64,
    /// Those used.
    pub used: u64,
    /// Those used after they leaked.
    pub used_after_leak: u64,
    /// Wall time in seconds.
    pub elapsed_secs: f64,
    /// Throughput, 10^6 bytes per second.
    pub mb_per_sec: f64,
}

/// The result of an audit.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// leakscan's version.
    pub version: &'static str,
    /// `--leaked-at`, if given.
    pub leaked_at: Option<Stamp>,
    /// Totals.
    pub stats: AuditStats,
    /// Each log read.
    pub logs: Vec<LogStats>,
    /// Each credential of the report, in report order.
    pub credentials: Vec<CredentialUsage>,
}

impl AuditReport {
    /// Whether a credential was used after it leaked (the CLI exits 1).
    pub fn used_after_leak(&self) -> bool {
        self.credentials.iter().any(|c| c.used_after_leak)
    }

    /// Whether a log could not be read to its end (the CLI exits 2 unless a use after
    /// the leak was found).
    pub fn incomplete(&self) -> bool {
        self.logs.iter().any(|l| l.error.is_some())
    }
}
