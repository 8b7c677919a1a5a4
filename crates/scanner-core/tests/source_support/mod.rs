//! Helpers for the source tests: an `Events` collector, archive builders, positions.
#![allow(dead_code)]

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use scanner_core::source::fs::{scan_paths, ScanOptions, ScanStats};
use scanner_core::source::Events;
use scanner_core::{Finding, Scanner};

/// 2025-01-01T00:00:00Z, so expiry never depends on the clock.
pub const NOW: i64 = 1_735_689_600;

/// Collects everything a source reports.
#[derive(Default)]
pub struct Collect {
    pub findings: Mutex<Vec<Finding>>,
    pub errors: Mutex<Vec<(String, String, String)>>,
    pub scanned: Mutex<Vec<(String, u64)>>,
}

impl Events for Collect {
    fn finding(&self, f: Finding) {
        self.findings.lock().unwrap().push(f);
    }
    fn error(&self, path: &str, kind: scanner_core::Problem, msg: &str) {
        self.errors
            .lock()
            .unwrap()
            .push((path.into(), kind.as_str().into(), msg.into()));
    }
    fn scanned(&self, path: &str, bytes: u64) {
        self.scanned.lock().unwrap().push((path.into(), bytes));
    }
}

/// The result of one scan, sorted by path and position.
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<(String, String, String)>,
    pub scanned: Vec<(String, u64)>,
    pub stats: ScanStats,
}

impl Outcome {
    /// (rule, path, line, column) of every finding.
    pub fn positions(&self) -> Vec<(String, String, usize, usize)> {
        self.findings
            .iter()
            .map(|f| (f.rule_id.clone(), f.path.clone(), f.line, f.column))
            .collect()
    }

    /// The kinds reported for `path`.
    pub fn kinds_of(&self, path: &str) -> Vec<String> {
        self.errors
            .iter()
            .filter(|e| e.0 == path)
            .map(|e| e.1.clone())
            .collect()
    }

    /// Findings whose path is `path`.
    pub fn at(&self, path: &str) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.path == path).collect()
    }
}

pub fn scanner() -> Scanner {
    Scanner::builder().now(NOW).build().unwrap()
}

/// Scans `paths` with `opts`.
pub fn scan_with(scanner: &Scanner, paths: &[PathBuf], opts: &ScanOptions) -> Outcome {
    let events = Collect::default();
    let stats = scan_paths(paths, scanner, opts, &events).expect("scan starts");
    let mut findings = events.findings.into_inner().unwrap();
    findings.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    let mut errors = events.errors.into_inner().unwrap();
    errors.sort();
    let mut scanned = events.scanned.into_inner().unwrap();
    scanned.sort();
    Outcome {
        findings,
        errors,
        scanned,
        stats,
    }
}

/// Scans one path with default options.
pub fn scan(path: &Path) -> Outcome {
    scan_with(&scanner(), &[path.to_path_buf()], &ScanOptions::default())
}

/// The label a file under `root` gets when `root` is the one directory scanned: relative
/// to it (SPEC), so fingerprints do not depend on where the tree lives.
pub fn label(_root: &Path, rel: &str) -> String {
    rel.to_owned()
}

/// 1-based (line, byte column) of the first `needle` in `text`.
pub fn pos(text: &[u8], needle: &str) -> (usize, usize) {
    let at = text
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap_or_else(|| panic!("{needle:.20}... not in text"));
    let line = text[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = text[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    (line, at - line_start + 1)
}

/// A zip of `(name, bytes)`; `deflate` chooses deflate over stored.
pub fn zip(entries: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let opts = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(false);
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A tar of `(name, bytes)`.
pub fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// gzip of `data`.
pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Text with a legacy service-account token on line 3; returns (text, token).
pub fn token_text(sa: &str) -> (Vec<u8>, String) {
    let tok = crate::common::legacy_token("kube-system", sa, &format!("{sa}-token-x7k2p"));
    let text = format!(
        "2024-05-01T10:00:00Z INFO starting deploy\n2024-05-01T10:00:01Z INFO cluster ready\n2024-05-01T10:00:02Z DEBUG auth header: Bearer {tok}\n2024-05-01T10:00:03Z INFO done\n"
    );
    (text.into_bytes(), tok)
}

/// A kubeconfig user with a static token (rule `kubeconfig-token`, line 4, column 12).
pub const KUBECONFIG: &[u8] =
    b"users:\n- name: ops\n  user:\n    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c\n";
