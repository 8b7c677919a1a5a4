//! `leakscan git`: history, range and staged scans.

use anyhow::{Context, Result};
use scanner_core::report::RunStats;
use scanner_core::source::git::{self, HistoryOptions, Selection};
use scanner_core::source::Events;
use scanner_core::Finding;

use crate::args::GitArgs;
use crate::config;
use crate::output::{build_scanner, Reporter};

/// Forwards a git source's events to the reporter.
struct ToReporter<'a>(&'a Reporter);

impl Events for ToReporter<'_> {
    fn finding(&self, finding: Finding) {
        self.0.finding(finding);
    }
    fn error(&self, path: &str, kind: &str, message: &str) {
        self.0.error(path, kind, message);
    }
    fn scanned(&self, _path: &str, _bytes: u64) {}
}

/// Runs a git scan.
pub fn run(args: GitArgs) -> Result<u8> {
    let reporter = Reporter::new(&args.common)?;
    run_with(args, reporter)
}

/// Runs the scan into `reporter` (a report, or a baseline for `leakscan baseline create`).
pub fn run_with(args: GitArgs, reporter: Reporter) -> Result<u8> {
    let config = config::load(
        args.common.config.as_deref(),
        std::slice::from_ref(&args.repo),
    )?;
    let scanner = build_scanner(&args.common, config)?;
    config::report_skipped(scanner.config(), &reporter);
    let events = ToReporter(&reporter);
    let repo = args.repo.display().to_string();
    let mut stats = RunStats::default();
    if args.staged {
        let opts = git::StagedOptions {
            max_blob_size: Some(args.max_file_size),
        };
        let s = git::scan_staged_with(&args.repo, &scanner, &opts, &events)
            .with_context(|| format!("scanning the staged changes of {repo}"))?;
        stats.files = s.files;
        stats.bytes = s.bytes;
        stats.skipped = s.skipped;
    } else {
        let selection = match (&args.range, &args.since_commit) {
            (Some(r), _) => Selection::Range(r.clone()),
            (None, Some(c)) => Selection::Range(format!("{c}..HEAD")),
            (None, None) if !args.branch.is_empty() => Selection::Refs(args.branch.clone()),
            (None, None) => Selection::AllRefs,
        };
        let opts = HistoryOptions {
            selection,
            threads: args.common.threads.unwrap_or(0),
            max_blob_size: Some(args.max_file_size),
        };
        let s = git::scan_history(&args.repo, &scanner, &opts, &events)
            .with_context(|| format!("scanning the history of {repo}"))?;
        stats.files = s.blobs;
        stats.bytes = s.bytes;
        stats.skipped = s.skipped;
        stats.commits = Some(s.commits);
    }
    stats.suppressed = scanner.suppressed();
    reporter.finish(stats)
}
