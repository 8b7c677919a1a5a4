//! The audit as one self-contained page to mail with the scan's HTML report: the totals,
//! then one section per credential, most alarming first, holding the text block a person
//! reads on a terminal. Inline CSS, no script, everything from the logs escaped.

use std::io::{self, Write};

use super::{text, verdict, NOTES};
use crate::audit::{AuditReport, CredentialUsage};
use crate::report::html::{escape, STYLE};

/// The verdict's CSS class (the scan report's severity colours) and label.
fn badge(c: &CredentialUsage) -> (&'static str, &'static str) {
    match verdict(c) {
        "used-after-leak" => ("critical", "used after the leak"),
        "used" => ("high", "used"),
        "not-used" => ("low", "not used"),
        _ => ("info", "not looked up"),
    }
}

/// Writes the audit as an HTML page.
pub fn write_html(w: &mut dyn Write, report: &AuditReport) -> io::Result<()> {
    writeln!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>leakscan audit</title><style>{STYLE}</style></head><body>"
    )?;
    let s = &report.stats;
    writeln!(w, "<h1>leakscan audit: was it used?</h1>")?;
    writeln!(
        w,
        "<p><b>{} credential{} ({} looked up): {} used after the leak, {} used, {} not used</b></p>",
        s.credentials,
        if s.credentials == 1 { "" } else { "s" },
        s.matchable,
        s.used_after_leak,
        s.used,
        s.matchable - s.used
    )?;
    writeln!(
        w,
        "<p class=\"meta\">{} log{}, {:.1} MB, {} lines, {} malformed, read in {:.2} s.</p>",
        s.logs,
        if s.logs == 1 { "" } else { "s" },
        s.bytes as f64 / 1e6,
        s.lines,
        s.malformed,
        s.elapsed_secs
    )?;
    for l in report.logs.iter().filter(|l| l.error.is_some()) {
        writeln!(
            w,
            "<p class=\"incomplete\">{}: NOT READ TO ITS END: {}</p>",
            escape(&l.path),
            escape(l.error.as_deref().unwrap_or(""))
        )?;
    }
    let mut order: Vec<&CredentialUsage> = report.credentials.iter().collect();
    order.sort_by_key(|c| text::rank(c));
    for c in order {
        let (class, label) = badge(c);
        let mut block = Vec::new();
        text::credential(&mut block, c, false)?;
        writeln!(
            w,
            "<section class=\"{class}\"><h2><span class=\"sev\">{label}</span> <code>{}</code> {}</h2><pre>{}</pre></section>",
            escape(&c.leak.rule_id),
            escape(&c.leak.identity),
            escape(&String::from_utf8_lossy(&block))
        )?;
    }
    writeln!(w, "<h2>Reading these results</h2><ul>")?;
    for n in NOTES {
        writeln!(w, "<li>{}</li>", escape(n))?;
    }
    writeln!(
        w,
        "</ul><p class=\"meta\">leakscan {}; no secret is in this page: the report gave none.</p></body></html>",
        report.version
    )
}
