//! `leakscan scan`: files, directories and standard input.

use std::fs::File;
use std::path::Path;

use anyhow::Result;
use scanner_core::report::RunStats;
use scanner_core::{FnSink, Origin, Scanner};

use crate::args::ScanArgs;
use crate::output::{build_scanner, Reporter};

/// Runs a file-tree scan.
pub fn run(args: ScanArgs) -> Result<u8> {
    let scanner = build_scanner(&args.common)?;
    let reporter = Reporter::new(&args.common)?;
    let mut stats = RunStats::default();
    for path in &args.paths {
        if path.as_os_str() == "-" {
            let stdin = std::io::stdin().lock();
            scan_reader(&scanner, &reporter, stdin, "-", &mut stats);
        } else {
            walk(&scanner, &reporter, path, &mut stats);
        }
    }
    reporter.finish(stats)
}

fn scan_reader(
    scanner: &Scanner,
    reporter: &Reporter,
    r: impl std::io::Read,
    label: &str,
    stats: &mut RunStats,
) {
    let origin = Origin::path(label);
    let mut sink = FnSink(|f| reporter.finding(f));
    match scanner.scan_reader(r, &origin, &mut sink) {
        Ok(n) => {
            stats.files += 1;
            stats.bytes += n;
        }
        Err(e) => reporter.error(label, "read-error", e.to_string()),
    }
}

fn walk(scanner: &Scanner, reporter: &Reporter, path: &Path, stats: &mut RunStats) {
    if path.is_dir() {
        let entries = match std::fs::read_dir(path) {
            Ok(e) => e,
            Err(e) => {
                return reporter.error(path.display().to_string(), "read-error", e.to_string())
            }
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            walk(scanner, reporter, &p, stats);
        }
        return;
    }
    let label = path.display().to_string();
    match File::open(path) {
        Ok(f) => scan_reader(scanner, reporter, f, &label, stats),
        Err(e) => reporter.error(label, "read-error", e.to_string()),
    }
}
