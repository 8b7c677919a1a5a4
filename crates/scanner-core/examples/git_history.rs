//! Scans the full history of a repository with the library API and prints a summary:
//! `cargo run --release --example git_history -- REPO [THREADS]`.

use std::sync::atomic::{AtomicU64, Ordering};

use scanner_core::source::git::{scan_history, HistoryOptions};
use scanner_core::source::Events;
use scanner_core::{Finding, Scanner};

/// Counts findings and warnings; prints each finding's rule, path, line and commit.
#[derive(Default)]
struct Count {
    findings: AtomicU64,
    warnings: AtomicU64,
}

impl Events for Count {
    fn finding(&self, f: Finding) {
        self.findings.fetch_add(1, Ordering::Relaxed);
        let commit = f.git.as_ref().map_or("", |g| g.commit.as_str());
        println!("{} {}:{} {commit}", f.rule_id, f.path, f.line);
    }
    fn error(&self, path: &str, kind: scanner_core::Problem, message: &str) {
        self.warnings.fetch_add(1, Ordering::Relaxed);
        eprintln!("warning: {path}: {message} ({kind})");
    }
    fn scanned(&self, _path: &str, _bytes: u64) {}
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let repo = args.next().ok_or("usage: git_history REPO [THREADS]")?;
    let threads = args.next().map(|t| t.parse()).transpose()?.unwrap_or(0);
    let events = Count::default();
    let opts = HistoryOptions {
        threads,
        ..HistoryOptions::default()
    };
    let started = std::time::Instant::now();
    let stats = scan_history(repo.as_ref(), &Scanner::new(), &opts, &events)?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} introductions; {} commits, {} blobs, {:.1} MB in {secs:.2}s ({:.0} MB/s); {} findings, {} warnings",
        stats.introductions,
        stats.commits,
        stats.blobs,
        stats.bytes as f64 / 1e6,
        stats.bytes as f64 / 1e6 / secs,
        events.findings.load(Ordering::Relaxed),
        events.warnings.load(Ordering::Relaxed),
    );
    Ok(())
}
