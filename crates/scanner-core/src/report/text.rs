//! Human-readable text renderer: grouped by file, one line per finding.

use std::io::{self, Write};

use super::{shown_secret, Report, ReportOptions};
use crate::finding::{Finding, Severity, SignatureStatus, TokenKind};
use crate::verify::LiveStatus;

fn paint(opts: &ReportOptions, code: &str, s: &str) -> String {
    if opts.color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

/// The details after the rule id: who the token opens, its lifetime, and provenance.
pub(crate) fn details(f: &Finding) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(t) = &f.token {
        if let (Some(ns), Some(sa)) = (&t.namespace, &t.service_account) {
            parts.push(format!("{ns}/{sa}"));
        } else if let Some(sub) = &t.subject {
            parts.push(format!("sub={sub}"));
        }
        match (t.kind, &t.expires_at) {
            (TokenKind::LegacyServiceAccount, _) => parts.push("legacy (never expires)".into()),
            (_, Some(exp)) if t.expired => parts.push(format!("EXPIRED {exp}")),
            (TokenKind::BoundServiceAccount, Some(exp)) => {
                parts.push(format!("bound, expires {exp}"))
            }
            (_, Some(exp)) => parts.push(format!("expires {exp}")),
            (_, None) => parts.push("no expiry".into()),
        }
        match (t.signature, &t.verified_key_id) {
            (SignatureStatus::Valid, Some(kid)) => {
                parts.push(format!("signature valid (key {kid})"))
            }
            (SignatureStatus::Valid, None) => parts.push("signature valid".into()),
            (SignatureStatus::Invalid, _) => parts.push("signature INVALID".into()),
            (SignatureStatus::Unverified, _) => {}
        }
        if let Some(pod) = &t.pod {
            parts.push(format!("pod {pod}"));
        }
        if let Some(iss) = &t.issuer {
            if t.kind != TokenKind::LegacyServiceAccount {
                parts.push(format!("iss {iss}"));
            }
        }
    }
    if let Some(live) = &f.live {
        let mut s = match live.status {
            LiveStatus::Live => format!(
                "LIVE as {}",
                live.username.as_deref().unwrap_or("an authenticated user")
            ),
            LiveStatus::Rejected => "rejected by the API server".to_owned(),
            LiveStatus::Unreachable => "API server unreachable".to_owned(),
            LiveStatus::Skipped => "not checked live".to_owned(),
        };
        if !live.permissions.is_empty() {
            s.push_str(&format!(" [may: {}]", live.permissions.join("; ")));
        }
        if let Some(r) = live
            .reason
            .as_deref()
            .filter(|_| live.status != LiveStatus::Live)
        {
            s.push_str(&format!(" ({r})"));
        }
        parts.push(s);
    }
    if !f.decoded_from.is_empty() {
        parts.push(format!("via {}", f.decoded_from.join("+")));
    }
    if let Some(g) = &f.git {
        let short = g.commit.get(..10).unwrap_or(&g.commit);
        parts.push(format!(
            "commit {short} by {} <{}> {}",
            g.author_name, g.author_email, g.date
        ));
    }
    for (k, v) in &f.context {
        parts.push(format!("{k}={v}"));
    }
    parts
}

/// Writes findings grouped by file, a severity tally and the inputs that failed.
pub fn write_text(w: &mut dyn Write, report: &Report, opts: &ReportOptions) -> io::Result<()> {
    let mut current: Option<&str> = None;
    for f in &report.findings {
        if current != Some(f.path.as_str()) {
            if current.is_some() {
                writeln!(w)?;
            }
            writeln!(w, "{}", paint(opts, "1;4", &f.path))?;
            current = Some(f.path.as_str());
        }
        let sev = format!("{:<8}", f.severity.as_str());
        let mut line = format!(
            "  {:>5}:{:<4} {} {:<22}",
            f.line,
            f.column,
            paint(opts, severity_colour(f.severity), &sev),
            f.rule_id
        );
        let d = details(f);
        if !d.is_empty() {
            line.push_str(&format!(" {}", d.join(", ")));
        }
        line.push_str(&format!("  {}", shown_secret(f, opts)));
        writeln!(w, "{}", line.trim_end())?;
    }
    if report.findings.is_empty() {
        writeln!(w, "No findings.")?;
    } else {
        let mut tally = Vec::new();
        for s in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            let n = report.findings.iter().filter(|f| f.severity == s).count();
            if n > 0 {
                tally.push(format!("{n} {s}"));
            }
        }
        writeln!(
            w,
            "\n{} findings: {}",
            report.findings.len(),
            tally.join(", ")
        )?;
    }
    if !report.errors.is_empty() {
        writeln!(
            w,
            "\n{} inputs could not be (fully) scanned:",
            report.errors.len()
        )?;
        for e in &report.errors {
            writeln!(w, "  {}: {} ({})", e.path, e.message, e.kind)?;
        }
    }
    Ok(())
}
