//! JSON and JSONL renderers.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{shown_secret, Report, ReportOptions};
use crate::finding::Finding;

/// One finding as a JSON value, with the secret shown per `opts`.
pub(crate) fn finding_value(f: &Finding, opts: &ReportOptions) -> io::Result<Value> {
    let mut v = serde_json::to_value(f).map_err(io::Error::other)?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("secret".into(), Value::String(shown_secret(f, opts)));
    }
    Ok(v)
}

/// Writes `{"version", "findings", "stats", "errors"}`, pretty-printed.
pub fn write_json(w: &mut dyn Write, report: &Report, opts: &ReportOptions) -> io::Result<()> {
    let findings = report
        .findings
        .iter()
        .map(|f| finding_value(f, opts))
        .collect::<io::Result<Vec<_>>>()?;
    let doc = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "findings": findings,
        "stats": report.stats,
        "errors": report.errors,
    });
    serde_json::to_writer_pretty(&mut *w, &doc).map_err(io::Error::other)?;
    writeln!(w)
}

/// Writes one finding as one compact JSON line.
pub fn write_jsonl_finding(w: &mut dyn Write, f: &Finding, opts: &ReportOptions) -> io::Result<()> {
    let v = finding_value(f, opts)?;
    serde_json::to_writer(&mut *w, &v).map_err(io::Error::other)?;
    writeln!(w)
}
