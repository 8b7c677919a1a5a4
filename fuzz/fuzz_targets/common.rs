//! What every target checks about findings, whatever the input: they lie inside it, their
//! coordinates are consistent, and their secret is never printed in clear.
#![allow(dead_code)]

use scanner_core::Finding;

/// Invariants of one finding of an input of `len` bytes (`None`: length unknown).
pub fn check(f: &Finding, len: Option<usize>) {
    assert!(f.line >= 1 && f.column >= 1, "{f:?}");
    assert!(
        (f.end_line, f.end_column) >= (f.line, f.column),
        "end before start: {f:?}"
    );
    if let Some(len) = len {
        assert!((f.byte_offset as usize) < len.max(1), "offset outside input: {f:?}");
    }
    let shown = format!("{f:?}");
    let raw = f.secret.expose();
    if raw.chars().count() >= 12 {
        assert!(!shown.contains(raw), "secret in Debug output");
    }
}

/// Events that check each finding and keep nothing.
pub struct Checked;

impl scanner_core::source::Events for Checked {
    fn finding(&self, f: Finding) {
        check(&f, None);
    }
    fn error(&self, path: &str, _kind: scanner_core::Problem, message: &str) {
        assert!(!message.is_empty(), "{path}: empty error");
    }
    fn scanned(&self, _path: &str, _bytes: u64) {}
}
