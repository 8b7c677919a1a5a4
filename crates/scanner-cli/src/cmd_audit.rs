//! `leakscan audit REPORT AUDIT_LOG…`: parses the arguments, runs the library's audit and
//! renders it. Exit codes: 1 when a credential was used after it leaked, 2 on an error
//! (an unreadable report, or a log not read to its end when no such use was found), else 0.

use std::io::{self, BufWriter, IsTerminal, Write};

use anyhow::{anyhow, Context, Result};
use scanner_core::audit::{self, Audit, AuditOptions, AuditReport, Stamp};

use crate::args::{AuditArgs, AuditFormatArg};
use crate::dest::Dest;
use crate::output::{color_wanted, refuse_overwrite};

/// Runs `leakscan audit`.
pub fn run(a: AuditArgs) -> Result<u8> {
    let leaked_at = a
        .leaked_at
        .as_deref()
        .map(|s| {
            Stamp::parse(s).ok_or_else(|| {
                anyhow!("--leaked-at {s:?}: expected RFC 3339, e.g. 2024-05-01T12:00:00Z")
            })
        })
        .transpose()?;
    let mut inputs = a.logs.clone();
    inputs.push(a.report.clone());
    refuse_overwrite(a.output.as_deref(), &inputs)?;
    let data = std::fs::read(&a.report)
        .with_context(|| format!("reading the report {}", a.report.display()))?;
    let mut audit = Audit::new(
        &data,
        AuditOptions {
            leaked_at,
            list_limit: a.list_limit,
            threads: a.threads.unwrap_or(0),
        },
    )
    .with_context(|| format!("{}", a.report.display()))?;
    drop(data);
    for log in &a.logs {
        let s = audit.read_path(log);
        if a.quiet {
            continue;
        }
        if let Some(e) = &s.error {
            eprintln!(
                "leakscan: warning: {}: not read to its end after {} lines: {}",
                scanner_core::report::terminal_safe(&s.path),
                s.lines,
                e
            );
        }
        if s.malformed > 0 {
            eprintln!(
                "leakscan: warning: {}: {} malformed lines skipped (first at line {})",
                scanner_core::report::terminal_safe(&s.path),
                s.malformed,
                s.malformed_lines.first().copied().unwrap_or(0)
            );
        }
    }
    let report = audit.finish();
    let format = match a.format {
        Some(f) => f,
        None if a.output.is_none() && io::stdout().is_terminal() => AuditFormatArg::Text,
        None => AuditFormatArg::Json,
    };
    let color = format == AuditFormatArg::Text && color_wanted(a.color, a.output.is_none());
    let mut dest = Dest::open(a.output.as_deref(), false)?;
    {
        let mut w = BufWriter::with_capacity(1 << 16, dest.writer());
        match format {
            AuditFormatArg::Text => audit::write_text(&mut w, &report, color),
            AuditFormatArg::Json => audit::write_json(&mut w, &report),
            AuditFormatArg::Sarif => audit::write_sarif(&mut w, &report),
            AuditFormatArg::Html => audit::write_html(&mut w, &report),
        }
        .and_then(|_| w.flush())
        .or_else(|e| match e.kind() {
            io::ErrorKind::BrokenPipe => Ok(()),
            _ => Err(e),
        })
        .context("writing the report")?;
    }
    dest.commit()?;
    if !a.quiet {
        summary(&report);
    }
    Ok(if report.used_after_leak() {
        1
    } else if report.incomplete() {
        crate::EXIT_ERROR
    } else {
        0
    })
}

fn summary(r: &AuditReport) {
    let s = &r.stats;
    eprintln!(
        "leakscan: audit of {} credentials ({} looked up) in {} logs, {:.1} MB, {} lines in {:.2}s ({:.0} MB/s): {} used after the leak, {} used, {} malformed lines",
        s.credentials,
        s.matchable,
        s.logs,
        s.bytes as f64 / 1e6,
        s.lines,
        s.elapsed_secs,
        s.mb_per_sec,
        s.used_after_leak,
        s.used,
        s.malformed,
    );
}
