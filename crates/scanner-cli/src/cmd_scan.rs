//! `leakscan scan`: files, directories, archives, Slack exports and standard input, on all
//! cores (or `--threads`).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use scanner_core::report::RunStats;
use scanner_core::source::archive::ArchiveLimits;
use scanner_core::source::fs::{self, ScanOptions};
use scanner_core::source::Events;
use scanner_core::{Finding, Problem};

use crate::args::ScanArgs;
use crate::config;
use crate::output::{build_scanner, Reporter};
use crate::progress::Progress;

/// Forwards the source's events to the reporter and the progress display.
struct ToReporter<'a> {
    reporter: &'a Reporter,
    progress: &'a Progress,
}

impl Events for ToReporter<'_> {
    fn finding(&self, finding: Finding) {
        self.progress.finding();
        self.reporter.finding(finding);
    }
    fn error(&self, path: &str, kind: Problem, message: &str) {
        self.reporter.error(path, kind, message);
    }
    fn scanned(&self, path: &str, bytes: u64) {
        self.progress.scanned(path, bytes);
    }
    fn progress(&self, path: &str, bytes: u64) {
        self.progress.partial(path, bytes);
    }
    fn suppressed(&self, n: u64) {
        self.reporter.suppressed(n);
    }
}

/// Runs a file-tree scan.
pub fn run(args: ScanArgs) -> Result<u8> {
    crate::output::refuse_output_onto_input(&args.common, &args.paths)?;
    let reporter = Reporter::new(&args.common)?;
    run_with(args, reporter)
}

/// Runs the scan into `reporter` (a report, or a baseline for `leakscan baseline create`).
pub fn run_with(args: ScanArgs, reporter: Reporter) -> Result<u8> {
    // A mistyped path must not pass as a clean scan: that is a usage error (exit 2).
    for p in args.paths.iter().filter(|p| p.as_os_str() != "-") {
        std::fs::symlink_metadata(p).with_context(|| format!("{}", p.display()))?;
    }
    if args.paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        bail!("\"-\" (standard input) can be given only once");
    }
    // The scan roots: leakscan.toml is looked for there (standard input: the current dir).
    let roots: Vec<PathBuf> = args
        .paths
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                PathBuf::from(".")
            } else {
                p.clone()
            }
        })
        .collect();
    let config = config::load(args.common.config.as_deref(), &roots)?;
    let scanner = build_scanner(&args.common, config)?;
    config::report_skipped(scanner.config(), &reporter);
    let opts = ScanOptions {
        no_ignore: !args.respect_gitignore,
        hidden: !args.skip_hidden,
        exclude: args.exclude.clone(),
        max_file_size: args.max_file_size,
        threads: args.common.threads.unwrap_or(0),
        mmap: !args.no_mmap,
        archive: ArchiveLimits {
            max_depth: args.archive_depth,
            ..ArchiveLimits::default()
        },
        ..ScanOptions::default()
    };
    let progress = Progress::start(&args.common);
    let events = ToReporter {
        reporter: &reporter,
        progress: &progress,
    };
    let stats = fs::scan_paths(&args.paths, &scanner, &opts, &events).context("scanning")?;
    progress.finish();
    let run = RunStats {
        files: stats.files,
        bytes: stats.bytes,
        ..RunStats::default()
    };
    reporter.finish(run)
}
