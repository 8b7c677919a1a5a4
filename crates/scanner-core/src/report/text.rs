//! Human-readable text renderer: one heading per credential, then each place it was found.

use std::io::{self, Write};

use super::spool::{Fragments, Groups, Key, Spool};
use super::{shown_secret, terminal_safe, Report, ReportOptions, ScanError};
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

/// The details after the rule id: who the credential opens, its lifetime, and provenance.
pub(crate) fn details(f: &Finding) -> Vec<String> {
    let mut parts = identity(f);
    parts.extend(provenance(f));
    parts
}

/// What the credential is, the same wherever it was found: who it opens, its lifetime,
/// signature and what the API server said.
pub(crate) fn identity(f: &Finding) -> Vec<String> {
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
    if let Some(c) = &f.certificate {
        parts.push(format!("user {}", c.user.as_deref().unwrap_or("(no CN)")));
        if !c.groups.is_empty() {
            parts.push(format!("groups {}", c.groups.join("+")));
        }
        parts.push(if c.expired {
            format!("certificate EXPIRED {}", c.not_after)
        } else {
            format!("certificate expires {}", c.not_after)
        });
    }
    if let Some(id) = &f.token_id {
        parts.push(format!("token id {id}"));
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
    parts
}

/// Where this one location came from: decoding, commit, source context.
pub(crate) fn provenance(f: &Finding) -> Vec<String> {
    let mut parts = Vec::new();
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

/// A credential's heading, without its severity (the highest of its locations, known
/// only at the end): rule, identity and the (redacted) secret.
pub(crate) fn credential_heading(f: &Finding, opts: &ReportOptions) -> String {
    let mut line = format!("{:<22}", f.rule_id);
    let d = identity(f);
    if !d.is_empty() {
        line.push_str(&format!(" {}", d.join(", ")));
    }
    line.push_str(&format!("  {}", terminal_safe(&shown_secret(f, opts))));
    line.trim_end().to_owned()
}

/// The credential's one-line remediation, under its heading.
pub(crate) fn fix_line(f: &Finding) -> String {
    format!(
        "fix: {}",
        terminal_safe(&crate::analyse::remediation(f).summary)
    )
}

/// One location of a credential, under its heading.
pub(crate) fn finding_line(f: &Finding, _opts: &ReportOptions) -> String {
    // Lines mean nothing in binary content: `@N` is the byte offset (0-based, as
    // `grep -abo` prints it).
    let at = if f.in_binary() {
        format!("@{}", f.byte_offset)
    } else {
        format!("{}:{}", f.line, f.column)
    };
    let mut line = format!("    {}:{at}", terminal_safe(&f.path));
    let d = provenance(f);
    if !d.is_empty() {
        line.push_str(&format!("  {}", d.join(", ")));
    }
    line
}

/// Writes findings grouped by credential, a severity tally and the inputs that failed.
pub fn write_text(w: &mut dyn Write, report: &Report, opts: &ReportOptions) -> io::Result<()> {
    Spool::render(super::Format::Text, report, opts, w)
}

/// The text report from spooled finding lines, in key order (grouped by credential).
pub(crate) fn write_spooled(
    w: &mut dyn Write,
    keys: &[Key],
    groups: &Groups,
    lines: &mut Fragments<'_>,
    errors: &[ScanError],
    opts: &ReportOptions,
    several_repositories: bool,
) -> io::Result<()> {
    let mut current: Option<&str> = None;
    for k in keys {
        if current != Some(&*k.credential) {
            if current.is_some() {
                writeln!(w)?;
            }
            let g = groups.get(&k.credential);
            let sev = g.map_or(k.severity, |g| g.severity);
            let heading = match g {
                Some(g) => lines.get_at(g.heading.0, g.heading.1)?.to_vec(),
                None => Vec::new(),
            };
            writeln!(
                w,
                "{} {}",
                paint(opts, severity_colour(sev), &format!("{:<8}", sev.as_str())),
                String::from_utf8_lossy(&heading)
            )?;
            if let Some(g) = g {
                writeln!(w, "  {}", g.summary(&k.credential))?;
            }
            current = Some(&k.credential);
        }
        let line = lines.get(k)?;
        match k.repository.as_deref().filter(|_| several_repositories) {
            // `    REPO  path:line:col …`: the fragment's own indent follows the name.
            Some(repo) => {
                write!(w, "    {}  ", terminal_safe(repo))?;
                w.write_all(line.strip_prefix(b"    ").unwrap_or(line))?;
            }
            None => w.write_all(line)?,
        }
        writeln!(w)?;
    }
    if keys.is_empty() {
        writeln!(w, "No findings.")?;
    } else {
        let tally = super::spool::severity_tally(groups);
        writeln!(
            w,
            "\n{} in {}: {}",
            plural(groups.len(), "credential"),
            plural(keys.len(), "location"),
            tally.join(", ")
        )?;
    }
    if !errors.is_empty() {
        writeln!(
            w,
            "\n{} could not be (fully) scanned:",
            plural(errors.len(), "input")
        )?;
        for e in errors {
            let location = e.location();
            let (path, msg) = (terminal_safe(&location), terminal_safe(&e.message));
            writeln!(w, "  {path}: {msg} ({})", e.kind)?;
        }
    }
    Ok(())
}

/// `1 finding`, `2 findings`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
