//! JSON and JSONL renderers.

use std::io::{self, Write};

use super::{Report, ReportOptions};
use crate::finding::Finding;

/// Writes `{"version", "findings", "stats", "errors"}`.
pub fn write_json(_w: &mut dyn Write, _report: &Report, _opts: &ReportOptions) -> io::Result<()> {
    todo!("report helper")
}

/// Writes one finding as one JSON line.
pub fn write_jsonl_finding(_w: &mut dyn Write, _f: &Finding, _opts: &ReportOptions) -> io::Result<()> {
    todo!("report helper")
}
