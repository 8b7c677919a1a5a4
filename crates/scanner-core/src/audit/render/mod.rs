//! Rendering an audit: text for people, HTML to mail, JSON for tools, SARIF for code scanning (one
//! result per credential, at the place it leaked). Nothing rendered holds a secret: the
//! report gave none, and of the logs only names, addresses and agents are kept.

mod html;
mod sarif;
mod text;

use std::io::{self, Write};

use serde::Serialize;

pub use html::write_html;
pub use sarif::write_sarif;
pub use text::write_text;

use super::AuditReport;

/// What every rendering says about reading the results.
pub const NOTES: [&str; 3] = [
    "source_ips counts the connection's address: the last sourceIPs entry of each event. \
     Entries before it (forwarded_for) come from X-Forwarded-For and X-Real-Ip headers, \
     which the client sets: they prove nothing.",
    "Each request counts once: at its ResponseComplete (or Panic) stage, or at its \
     RequestReceived / ResponseStarted stage when the logs hold no later one (joined by \
     auditID).",
    "A use after the leak is a request received at or after the leak time: the earliest \
     commit date of a history finding (author date), or --leaked-at.",
];

/// Writes the audit as one JSON document.
pub fn write_json(w: &mut dyn Write, report: &AuditReport) -> io::Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        #[serde(flatten)]
        report: &'a AuditReport,
        notes: [&'static str; 3],
    }
    serde_json::to_writer_pretty(
        &mut *w,
        &Doc {
            report,
            notes: NOTES,
        },
    )?;
    writeln!(w)
}

/// The verdict on one credential, as rendered.
pub(crate) fn verdict(c: &super::CredentialUsage) -> &'static str {
    if c.leak.key.is_none() {
        "not-matchable"
    } else if c.used_after_leak {
        "used-after-leak"
    } else if c.used {
        "used"
    } else {
        "not-used"
    }
}
