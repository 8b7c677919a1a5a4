//! `leakscan merge REPORT…`: parses the arguments, hands the reports to the library's
//! `Merger` and writes the merged report. Exit codes as for a scan: 1 (or --exit-code)
//! when the merged report has findings, 3 with --fail-on-incomplete when it has none but a
//! shard read less than everything, 2 when the reports cannot be merged.

use std::io::{self, BufWriter, IsTerminal, Write};

use anyhow::{Context, Result};
use scanner_core::report::{Format, Merger, ReportOptions};

use crate::args::{FormatArg, MergeArgs};
use crate::dest::Dest;
use crate::output::{color_wanted, refuse_overwrite, EXIT_INCOMPLETE};

/// Runs `leakscan merge`.
pub fn run(a: MergeArgs) -> Result<u8> {
    refuse_overwrite(a.output.as_deref(), &a.reports)?;
    let format = match a.format {
        Some(FormatArg::Text) => Format::Text,
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Jsonl) => Format::Jsonl,
        Some(FormatArg::Sarif) => Format::Sarif,
        Some(FormatArg::Html) => Format::Html,
        None if a.output.is_none() && io::stdout().is_terminal() => Format::Text,
        None => Format::Json,
    };
    let opts = ReportOptions {
        show_secrets: a.show_secrets,
        color: format == Format::Text && color_wanted(a.color, a.output.is_none()),
    };
    let mut merger = Merger::new(format, opts).context("creating the report spool")?;
    for r in &a.reports {
        merger.add_file(r)?;
    }
    let mut dest = Dest::open(a.output.as_deref(), a.show_secrets)?;
    let summary = {
        let mut w = BufWriter::with_capacity(1 << 16, dest.writer());
        let done = merger.finish(&mut w).map_err(anyhow::Error::from);
        let done = done.and_then(|s| w.flush().map(|()| s).context("writing the report"));
        match done {
            Ok(s) => s,
            // `leakscan merge … | head`: the reader has what it wanted.
            Err(e) if broken_pipe(&e) => return Ok(0),
            Err(e) => return Err(e),
        }
    };
    dest.commit()?;
    let s = &summary.stats;
    if !a.quiet {
        eprintln!(
            "leakscan: merged {} reports: {} findings ({} credentials), {} errors; {} files, \
             {:.1} MB{}",
            summary.reports,
            s.findings,
            s.credentials,
            summary.errors,
            s.files,
            s.bytes as f64 / 1e6,
            if s.complete { "" } else { "; INCOMPLETE" }
        );
        if summary.duplicates > 0 {
            eprintln!(
                "leakscan: {} findings were in more than one report and are kept once (a \
                 repository in two shards, or a report given twice?); stats are the sums of \
                 the reports'",
                summary.duplicates
            );
        }
    }
    Ok(if s.findings > 0 {
        a.exit_code
    } else if a.fail_on_incomplete && !s.complete {
        EXIT_INCOMPLETE
    } else {
        0
    })
}

/// Whether `e` is a write to a reader that went away.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
