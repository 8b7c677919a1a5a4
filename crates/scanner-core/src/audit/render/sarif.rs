//! The audit as SARIF 2.1.0: one result per credential of the report, located where it
//! leaked, with its verdict as the rule and its usage in `properties`.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{verdict, NOTES};
use crate::audit::{AuditReport, CredentialUsage};
use crate::report::uri;

const INFO_URI: &str = "https://github.com/leakscan/leakscan";

/// (id, level, security-severity, description) of each verdict.
const RULES: [(&str, &str, &str, &str); 4] = [
    (
        "used-after-leak",
        "error",
        "9.5",
        "A leaked credential was used after it leaked: treat the cluster as compromised",
    ),
    (
        "used",
        "warning",
        "7.0",
        "A leaked credential was used (before its leak time, or the leak time is unknown)",
    ),
    (
        "not-used",
        "note",
        "3.0",
        "No request in the audit logs used the leaked credential",
    ),
    (
        "not-matchable",
        "note",
        "0.0",
        "The audit log names this kind of credential by nothing the report carries",
    ),
];

fn message(c: &CredentialUsage) -> String {
    let who = format!("{} {}", c.leak.rule_id, c.leak.identity);
    let u = &c.usage;
    match verdict(c) {
        "used-after-leak" => format!(
            "{who}: {} requests after the leak ({}), {} in all, from {}",
            u.after_leak.total,
            c.leaked_at.map(|t| t.to_string()).unwrap_or_default(),
            u.requests,
            addresses(c)
        ),
        "used" => format!(
            "{who}: {} requests from {}{}",
            u.requests,
            addresses(c),
            if c.leaked_at.is_none() {
                "; leak time unknown"
            } else {
                ", none after the leak"
            }
        ),
        "not-used" => format!("{who}: no request in the audit logs"),
        _ => format!(
            "{who}: not looked up ({})",
            c.leak.not_matchable.as_deref().unwrap_or("")
        ),
    }
}

fn addresses(c: &CredentialUsage) -> String {
    let top: Vec<String> = c
        .usage
        .source_ips
        .top()
        .iter()
        .take(5)
        .map(|(ip, n)| format!("{ip} ({n})"))
        .collect();
    if top.is_empty() {
        "no recorded address".to_owned()
    } else {
        top.join(", ")
    }
}

fn result(c: &CredentialUsage) -> io::Result<Value> {
    let v = verdict(c);
    let index = RULES.iter().position(|r| r.0 == v).unwrap_or(0);
    let loc = &c.leak.first_location;
    let mut physical = json!({"artifactLocation": {"uri": uri(&loc.path)}});
    if loc.line > 0 {
        physical["region"] = json!({
            "startLine": loc.line,
            "startColumn": loc.column.max(1),
            "endLine": loc.end_line.max(loc.line),
            "endColumn": loc.end_column.max(1),
        });
    }
    let mut r = json!({
        "ruleId": v,
        "ruleIndex": index,
        "level": RULES[index].1,
        "message": {"text": message(c)},
        "partialFingerprints": {"leakscanCredential/v1": c.leak.credential_id},
        "properties": serde_json::to_value(c).map_err(io::Error::other)?,
    });
    if !loc.path.is_empty() {
        r["locations"] = json!([{"physicalLocation": physical}]);
    }
    Ok(r)
}

/// Writes the audit as a SARIF 2.1.0 log with one run.
pub fn write_sarif(w: &mut dyn Write, report: &AuditReport) -> io::Result<()> {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(id, level, sev, desc)| {
            json!({
                "id": id,
                "name": id.split('-').map(|p| {
                    let mut c = p.chars();
                    c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
                }).collect::<String>(),
                "shortDescription": {"text": desc},
                "fullDescription": {"text": desc},
                "help": {"text": NOTES.join(" ")},
                "helpUri": format!("{INFO_URI}#was-it-used-leakscan-audit"),
                "defaultConfiguration": {"level": level},
                "properties": {"security-severity": sev, "tags": ["security", "kubernetes", "audit"]},
            })
        })
        .collect();
    let results = report
        .credentials
        .iter()
        .map(result)
        .collect::<io::Result<Vec<Value>>>()?;
    let mut notifications = Vec::new();
    for l in &report.logs {
        if l.malformed > 0 {
            notifications.push(json!({
                "level": "warning",
                "message": {"text": format!("{}: {} malformed lines skipped", l.path, l.malformed)},
                "descriptor": {"id": "malformed-line"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&l.path)}}}],
                "properties": {"count": l.malformed, "lines": l.malformed_lines},
            }));
        }
        if let Some(e) = &l.error {
            notifications.push(json!({
                "level": "error",
                "message": {"text": format!("{}: not read to its end: {e}", l.path)},
                "descriptor": {"id": "unreadable-log"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&l.path)}}}],
            }));
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "leakscan",
                "version": report.version,
                "semanticVersion": report.version,
                "informationUri": INFO_URI,
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": !report.incomplete(),
                "toolExecutionNotifications": notifications,
                "properties": {"stats": report.stats, "logs": report.logs, "notes": NOTES},
            }],
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}
