//! Human-readable text renderer.

use std::io::{self, Write};

use super::{Report, ReportOptions};

/// Writes findings grouped by file, one line each.
pub fn write_text(_w: &mut dyn Write, _report: &Report, _opts: &ReportOptions) -> io::Result<()> {
    todo!("report helper")
}
