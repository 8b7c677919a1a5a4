//! A self-contained HTML report a responder can mail to a cluster's owners: one section per
//! credential (severity, identity, lifetime, what kills it, where it was found), the run's
//! totals and what could not be read. Inline CSS, no script, no external asset.

use std::io::{self, Write};

use super::spool::{Fragments, Groups, Key, Spool};
use super::{shown_secret, text, Format, Report, ReportOptions, RunStats, ScanError};
use crate::analyse::remediation;
use crate::finding::Finding;

/// `&`, `<`, `>`, `"` and `'` as entities: everything leakscan prints comes from scanned
/// input (paths, claims, commit messages) and must stay text.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

pub(crate) const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#1b1b1b;padding:0 1em}\
h1{font-size:1.5em}h2{font-size:1.1em;margin:.2em 0}code,pre{font:13px ui-monospace,monospace}\
pre{background:#f4f4f4;padding:.6em;overflow-x:auto;white-space:pre-wrap}\
section{border:1px solid #ccc;border-left:6px solid #888;border-radius:4px;padding:.6em 1em;margin:1em 0}\
.sev{display:inline-block;min-width:5.5em;font-weight:bold;text-transform:uppercase}\
.critical{border-left-color:#a40000}.critical .sev{color:#a40000}\
.high{border-left-color:#d9480f}.high .sev{color:#d9480f}\
.medium{border-left-color:#b08800}.medium .sev{color:#8a6a00}\
.low,.info{border-left-color:#4a7ab0}.low .sev,.info .sev{color:#4a7ab0}\
table{border-collapse:collapse;width:100%}td{border-top:1px solid #e4e4e4;padding:.2em .4em;vertical-align:top}\
.meta{color:#555}.incomplete{color:#a40000;font-weight:bold}";

/// A credential's heading block, without its severity (known at the end): the rest of the
/// `<h2>` the section opens with (rule, description), then identity, redacted secret and
/// remediation.
pub(crate) fn credential_heading(f: &Finding, opts: &ReportOptions) -> String {
    let fix = remediation(f);
    let mut h = format!(
        "<code>{}</code> {}</h2><p>{}</p><p class=\"meta\">secret: <code>{}</code></p>",
        escape(&f.rule_id),
        escape(&f.description),
        escape(&text::identity(f).join(", ")),
        escape(&shown_secret(f, opts)),
    );
    h.push_str(&format!("<p><b>Fix:</b> {}</p>", escape(&fix.summary)));
    if !fix.steps.is_empty() {
        h.push_str("<ol>");
        for s in &fix.steps {
            h.push_str(&format!("<li>{}</li>", escape(s)));
        }
        h.push_str("</ol>");
    }
    if !fix.commands.is_empty() {
        h.push_str(&format!("<pre>{}</pre>", escape(&fix.commands.join("\n"))));
    }
    h
}

/// One location row.
pub(crate) fn finding_row(f: &Finding) -> String {
    let at = if f.in_binary() {
        format!("{} @{}", f.path, f.byte_offset)
    } else {
        format!("{}:{}:{}", f.path, f.line, f.column)
    };
    format!(
        "<tr><td><code>{}</code></td><td>{}</td></tr>",
        escape(&at),
        escape(&text::provenance(f).join(", "))
    )
}

/// Writes the HTML report of `report`, findings grouped by credential in arrival order.
pub fn write_html(w: &mut dyn Write, report: &Report, opts: &ReportOptions) -> io::Result<()> {
    Spool::render(Format::Html, report, opts, w)
}

/// The whole document from spooled fragments, credentials in key order.
pub(crate) fn write_spooled(
    w: &mut dyn Write,
    keys: &[Key],
    groups: &Groups,
    parts: &mut Fragments<'_>,
    stats: &RunStats,
    errors: &[ScanError],
    several_repositories: bool,
) -> io::Result<()> {
    writeln!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>leakscan report</title><style>{STYLE}</style></head><body>"
    )?;
    writeln!(w, "<h1>leakscan report</h1>")?;
    let tally = super::spool::severity_tally(groups);
    let credentials = groups.len();
    writeln!(
        w,
        "<p><b>{credentials} credential{} in {} location{}</b>{}</p>",
        if credentials == 1 { "" } else { "s" },
        keys.len(),
        if keys.len() == 1 { "" } else { "s" },
        if tally.is_empty() {
            String::new()
        } else {
            format!(": {}", tally.join(", "))
        }
    )?;
    writeln!(
        w,
        "<p class=\"meta\">{} inputs, {:.1} MB scanned in {:.2} s; {} suppressed, {} skipped on purpose.</p>",
        stats.files,
        stats.bytes as f64 / 1e6,
        stats.elapsed_secs,
        stats.suppressed,
        stats.skipped
    )?;
    if !stats.complete {
        writeln!(
            w,
            "<p class=\"incomplete\">INCOMPLETE: {} input(s) could not be read in full; a credential may hide there (listed at the end).</p>",
            stats.incomplete
        )?;
    }
    if keys.is_empty() {
        writeln!(w, "<p>No findings.</p>")?;
    }
    let mut current: Option<&str> = None;
    for k in keys {
        if current != Some(&*k.credential) {
            if current.is_some() {
                writeln!(w, "</table></section>")?;
            }
            let g = groups.get(&k.credential);
            let sev = g.map_or(k.severity, |g| g.severity);
            let heading = match g {
                Some(g) => {
                    String::from_utf8_lossy(parts.get_at(g.heading.0, g.heading.1)?).into_owned()
                }
                None => String::new(),
            };
            writeln!(
                w,
                "<section class=\"{sev}\"><h2><span class=\"sev\">{sev}</span> {heading}"
            )?;
            if let Some(g) = g {
                writeln!(
                    w,
                    "<p class=\"meta\">{}</p>",
                    escape(&g.summary(&k.credential))
                )?;
            }
            writeln!(w, "<table>")?;
            current = Some(&k.credential);
        }
        let row = parts.get(k)?;
        match k.repository.as_deref().filter(|_| several_repositories) {
            // The row with the repository as its first cell.
            Some(repo) => {
                write!(w, "<tr><td><code>{}</code></td>", escape(repo))?;
                w.write_all(row.strip_prefix(b"<tr>").unwrap_or(row))?;
            }
            None => w.write_all(row)?,
        }
        writeln!(w)?;
    }
    if current.is_some() {
        writeln!(w, "</table></section>")?;
    }
    if !errors.is_empty() {
        writeln!(w, "<h2>Could not be (fully) scanned</h2><table>")?;
        for e in errors {
            writeln!(
                w,
                "<tr><td><code>{}</code></td><td>{} ({})</td></tr>",
                escape(&e.location()),
                escape(&e.message),
                e.kind
            )?;
        }
        writeln!(w, "</table>")?;
    }
    writeln!(
        w,
        "<p class=\"meta\">leakscan {}; secrets are redacted unless the report was made with --show-secrets.</p></body></html>",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_scanned_text_stays_text() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\"\u{1b}[31m"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;\u{fffd}[31m"
        );
    }
}
