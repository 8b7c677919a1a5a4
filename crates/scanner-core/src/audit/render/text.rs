//! The audit for people: one block per credential, most alarming first.

use std::io::{self, Write};

use super::verdict;
use crate::audit::{AuditReport, CredentialUsage, Listed, Request, Tally};
use crate::report::terminal_safe;

fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

pub(super) fn rank(c: &CredentialUsage) -> u8 {
    match verdict(c) {
        "used-after-leak" => 0,
        "used" => 1,
        "not-used" => 2,
        _ => 3,
    }
}

/// Writes the audit as text; `color` adds ANSI colours.
pub fn write_text(w: &mut dyn Write, report: &AuditReport, color: bool) -> io::Result<()> {
    let mut order: Vec<&CredentialUsage> = report.credentials.iter().collect();
    order.sort_by_key(|c| rank(c));
    for c in order {
        credential(w, c, color)?;
        writeln!(w)?;
    }
    for l in &report.logs {
        if l.malformed > 0 {
            let at: Vec<String> = l.malformed_lines.iter().map(u64::to_string).collect();
            writeln!(
                w,
                "{}: {} malformed line{} (line {}{}) skipped",
                terminal_safe(&l.path),
                l.malformed,
                if l.malformed == 1 { "" } else { "s" },
                at.join(", "),
                if l.malformed > at.len() as u64 {
                    ", …"
                } else {
                    ""
                },
            )?;
        }
        if let Some(e) = &l.error {
            writeln!(
                w,
                "{}: {} after {} lines",
                terminal_safe(&l.path),
                paint(
                    color,
                    "1;31",
                    &format!("NOT READ TO ITS END: {}", terminal_safe(e))
                ),
                l.lines
            )?;
        }
    }
    let s = &report.stats;
    if s.used > 0 {
        writeln!(
            w,
            "note: source IPs are each request's connection address (the last sourceIPs entry); \
             the X-Forwarded-For entries before it are set by the client and prove nothing"
        )?;
    }
    writeln!(
        w,
        "{} credential{} ({} looked up): {} used after the leak, {} used, {} not used; {} log{}, {:.1} MB, {} lines, {} malformed",
        s.credentials,
        if s.credentials == 1 { "" } else { "s" },
        s.matchable,
        s.used_after_leak,
        s.used,
        s.matchable - s.used,
        s.logs,
        if s.logs == 1 { "" } else { "s" },
        s.bytes as f64 / 1e6,
        s.lines,
        s.malformed,
    )
}

pub(super) fn credential(w: &mut dyn Write, c: &CredentialUsage, color: bool) -> io::Result<()> {
    let (label, code) = match verdict(c) {
        "used-after-leak" => ("USED AFTER LEAK", "1;31"),
        "used" => ("USED", "33"),
        "not-used" => ("not used", "32"),
        _ => ("not looked up", "2"),
    };
    writeln!(
        w,
        "{} {:<22} {}",
        paint(color, code, &format!("{label:<15}")),
        c.leak.rule_id,
        terminal_safe(&c.leak.identity)
    )?;
    let loc = &c.leak.first_location;
    writeln!(
        w,
        "  credential {}: {} location{}, first {}:{}:{}",
        c.leak.credential_id,
        c.leak.locations,
        if c.leak.locations == 1 { "" } else { "s" },
        terminal_safe(&loc.path),
        loc.line,
        loc.column
    )?;
    let Some(key) = &c.leak.key else {
        let why = c.leak.not_matchable.as_deref().unwrap_or("");
        return writeln!(w, "  cannot be looked up: {why}");
    };
    writeln!(w, "  looked up by {}", terminal_safe(&key.describe()))?;
    match (&c.leaked_at, &c.leaked_at_source) {
        (Some(t), Some(src)) => writeln!(w, "  leaked {t} ({src})")?,
        (Some(t), None) => writeln!(w, "  leaked {t}")?,
        _ => writeln!(
            w,
            "  leak time unknown (not a history finding): give --leaked-at to tell uses after it"
        )?,
    }
    let u = &c.usage;
    for m in u.minted_by.requests() {
        writeln!(
            w,
            "  minted by {} at {} ({}{})",
            terminal_safe(m.impersonated.as_deref().unwrap_or(&m.user)),
            when(m),
            terminal_safe(&m.namespace),
            if m.name.is_empty() {
                String::new()
            } else {
                format!("/{}", terminal_safe(&m.name))
            }
        )?;
    }
    if u.requests == 0 {
        writeln!(w, "  no request in the logs")?;
    } else {
        let span = match (u.first_use, u.last_use) {
            (Some(a), Some(b)) => format!(", {a} … {b}"),
            _ => String::new(),
        };
        let mut extra = Vec::new();
        if c.leaked_at.is_some() {
            extra.push(format!("{} after the leak", u.after_leak.total));
        }
        if u.refused > 0 {
            extra.push(format!("{} refused (401/403)", u.refused));
        }
        if u.stale > 0 {
            extra.push(format!("{} stale-token", u.stale));
        }
        if u.undated > 0 {
            extra.push(format!("{} undated", u.undated));
        }
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!("; {}", extra.join(", "))
        };
        writeln!(
            w,
            "  {} request{}{span}{extra}",
            u.requests,
            if u.requests == 1 { "" } else { "s" }
        )?;
        tally(w, "source IPs (connection address)", &u.source_ips)?;
        if !u.forwarded_for.is_empty() {
            tally(
                w,
                "X-Forwarded-For (set by the client, unverified)",
                &u.forwarded_for,
            )?;
        }
        tally(w, "user agents", &u.user_agents)?;
        tally(w, "verbs × resources", &u.actions)?;
    }
    listed(w, "read Secrets", &u.secrets_read)?;
    listed(w, "created pods or workloads", &u.pods_created)?;
    listed(w, "exec/attach/port-forward into pods", &u.pods_exec)?;
    listed(w, "requested tokens or certificates", &u.tokens_created)?;
    listed(w, "impersonated", &u.impersonated)?;
    listed(w, "bound roles", &u.role_bindings)?;
    listed(w, "refused: Secret marked invalid", &u.invalidated)?;
    if c.leaked_at.is_some() {
        listed(w, "uses after the leak", &u.after_leak)?;
    }
    Ok(())
}

fn when(r: &Request) -> String {
    r.at.map_or("(no time)".to_owned(), |t| t.to_string())
}

fn tally(w: &mut dyn Write, what: &str, t: &Tally) -> io::Result<()> {
    let mut parts: Vec<String> = t
        .top()
        .iter()
        .take(10)
        .map(|(v, n)| format!("{} ({n})", terminal_safe(v)))
        .collect();
    let rest: u64 = t.top().iter().skip(10).map(|(_, n)| n).sum::<u64>() + t.other;
    if rest > 0 {
        parts.push(format!("{rest} more"));
    }
    writeln!(w, "  {what}: {}", parts.join(", "))
}

fn listed(w: &mut dyn Write, what: &str, l: &Listed) -> io::Result<()> {
    if l.total == 0 {
        return Ok(());
    }
    let reqs = l.requests();
    let more = if (reqs.len() as u64) < l.total {
        format!(", first {} listed", reqs.len())
    } else {
        String::new()
    };
    writeln!(w, "  {what}: {}{more}", l.total)?;
    for r in reqs {
        writeln!(w, "    {}", line(r))?;
    }
    Ok(())
}

/// One request on one line: time, verb, object, as whom, from where, with what, outcome.
fn line(r: &Request) -> String {
    let mut obj = terminal_safe(&r.resource).into_owned();
    match (r.namespace.is_empty(), r.name.is_empty()) {
        (false, false) => obj.push_str(&format!(
            " {}/{}",
            terminal_safe(&r.namespace),
            terminal_safe(&r.name)
        )),
        (false, true) => obj.push_str(&format!(" -n {}", terminal_safe(&r.namespace))),
        (true, false) => obj.push_str(&format!(" {}", terminal_safe(&r.name))),
        (true, true) => {}
    }
    let mut s = format!("{} {} {obj}", when(r), terminal_safe(&r.verb));
    if let Some(as_user) = &r.impersonated {
        s.push_str(&format!(" as {}", terminal_safe(as_user)));
    }
    if let Some(peer) = r.peer() {
        s.push_str(&format!(" from {}", terminal_safe(peer)));
    }
    if !r.user_agent.is_empty() {
        s.push_str(&format!(" \"{}\"", terminal_safe(&r.user_agent)));
    }
    if let Some(code) = r.code {
        s.push_str(&format!(" → {code}"));
    }
    if r.stale {
        s.push_str(" (stale token)");
    }
    s
}
