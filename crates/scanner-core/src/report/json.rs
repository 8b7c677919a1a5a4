//! JSON and JSONL renderers.

use std::io::{self, Write};

use serde_json::Value;

use super::spool::{write_indented, Fragments, Key, Spool};
use super::{shown_secret, Format, Report, ReportOptions, RunStats, ScanError};
use crate::finding::Finding;

/// One finding as a JSON value, with the secret shown per `opts`.
pub(crate) fn finding_value(f: &Finding, opts: &ReportOptions) -> io::Result<Value> {
    let mut v = serde_json::to_value(f).map_err(io::Error::other)?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("secret".into(), Value::String(shown_secret(f, opts)));
        let fix = crate::analyse::remediation(f);
        obj.insert(
            "remediation".into(),
            serde_json::to_value(fix).map_err(io::Error::other)?,
        );
    }
    Ok(v)
}

/// Writes `{"version", "tool", "config_digest", "findings", "stats", "errors"}`,
/// pretty-printed (`config_digest` only when the report has one).
pub fn write_json(w: &mut dyn Write, report: &Report, opts: &ReportOptions) -> io::Result<()> {
    Spool::render(Format::Json, report, opts, w)
}

/// The JSON document from spooled findings, streamed: nothing but one finding at a time
/// is held.
pub(crate) fn write_spooled(
    w: &mut dyn Write,
    keys: &[Key],
    findings: &mut Fragments<'_>,
    stats: &RunStats,
    errors: &[ScanError],
    config_digest: Option<&str>,
) -> io::Result<()> {
    writeln!(w, "{{")?;
    writeln!(w, "  \"version\": \"{}\",", env!("CARGO_PKG_VERSION"))?;
    let tool = serde_json::to_string(&super::Tool::current())?;
    writeln!(w, "  \"tool\": {tool},")?;
    if let Some(d) = config_digest {
        writeln!(w, "  \"config_digest\": {},", serde_json::to_string(d)?)?;
    }
    write!(w, "  \"findings\": [")?;
    for (i, k) in keys.iter().enumerate() {
        w.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
        write_indented(w, findings.get(k)?, 4)?;
    }
    w.write_all(if keys.is_empty() {
        b"],\n"
    } else {
        b"\n  ],\n"
    })?;
    write!(w, "  \"stats\": ")?;
    write_indented(w, &serde_json::to_vec_pretty(stats)?, 2)?;
    write!(w, ",\n  \"errors\": ")?;
    write_indented(w, &serde_json::to_vec_pretty(errors)?, 2)?;
    writeln!(w, "\n}}")
}

/// Spooled findings as JSON lines, one compact object each (what `--format jsonl`
/// streams while scanning; a merged report has them only at the end).
pub(crate) fn write_lines(
    w: &mut dyn Write,
    keys: &[Key],
    findings: &mut Fragments<'_>,
) -> io::Result<()> {
    for k in keys {
        w.write_all(findings.get(k)?)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes one finding as one compact JSON line.
pub fn write_jsonl_finding(w: &mut dyn Write, f: &Finding, opts: &ReportOptions) -> io::Result<()> {
    let v = finding_value(f, opts)?;
    serde_json::to_writer(&mut *w, &v).map_err(io::Error::from)?;
    writeln!(w)
}
