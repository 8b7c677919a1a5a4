//! SARIF 2.1.0 renderer shaped for GitHub code scanning: one rule entry per rule id, a
//! `security-severity` per rule, `partialFingerprints` per result, relative `/` URIs.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::{shown_secret, text, Report, ReportOptions};
use crate::finding::Finding;
use crate::rules;

const INFO_URI: &str = "https://github.com/leakscan/leakscan";

/// Percent-encodes what a URI reference may not hold (spaces, `%`, non-ASCII ...), keeping
/// `/` and the `!` of `ARCHIVE!/MEMBER` labels readable.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `rules[]` entry of `id`; a custom rule (from the configuration) has no static
/// metadata, so its first finding's description and severity stand in.
fn rule_entry(id: &str, fallback_description: &str, fallback_severity: crate::Severity) -> Value {
    let (desc, help, sev) = match rules::builtin(id) {
        Some(r) => (r.description, r.help, r.severity),
        None => (
            fallback_description,
            "Custom rule from the configuration.",
            fallback_severity,
        ),
    };
    json!({
        "id": id,
        "name": id.split('-').map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        }).collect::<String>(),
        "shortDescription": {"text": desc},
        "fullDescription": {"text": desc},
        "help": {"text": help},
        "helpUri": format!("{INFO_URI}#what-it-finds"),
        "defaultConfiguration": {"level": sev.sarif_level()},
        "properties": {
            "security-severity": sev.security_severity(),
            "tags": ["security", "secret", "kubernetes"],
            "precision": "high"
        }
    })
}

fn message(f: &Finding, opts: &ReportOptions) -> String {
    let mut m = f.description.clone();
    let d = text::details(f);
    if !d.is_empty() {
        m.push_str(&format!(" ({})", d.join(", ")));
    }
    m.push_str(&format!(": {}", shown_secret(f, opts)));
    m
}

fn result(f: &Finding, index: usize, opts: &ReportOptions) -> io::Result<Value> {
    let mut props = Map::new();
    props.insert("severity".into(), json!(f.severity));
    props.insert("decoded_from".into(), json!(f.decoded_from));
    if let Some(g) = &f.git {
        props.insert("commit".into(), json!(g.commit));
        props.insert("author_email".into(), json!(g.author_email));
        props.insert("date".into(), json!(g.date));
    }
    if let Some(t) = &f.token {
        props.insert(
            "token".into(),
            serde_json::to_value(t).map_err(io::Error::other)?,
        );
    }
    if !f.context.is_empty() {
        props.insert("context".into(), json!(f.context));
    }
    if let Some(server) = &f.api_server {
        props.insert("api_server".into(), json!(server));
    }
    if let Some(live) = &f.live {
        props.insert(
            "live".into(),
            serde_json::to_value(live).map_err(io::Error::other)?,
        );
    }
    Ok(json!({
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "level": f.severity.sarif_level(),
        "message": {"text": message(f, opts)},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri(&f.path)},
                "region": {
                    "startLine": f.line.max(1),
                    "startColumn": f.column.max(1),
                    "endLine": f.end_line.max(f.line).max(1),
                    "endColumn": f.end_column.max(1),
                }
            }
        }],
        "partialFingerprints": {"leakscanFingerprint/v1": f.fingerprint},
        "properties": props,
    }))
}

/// Writes a SARIF 2.1.0 log with one run.
pub fn write_sarif(w: &mut dyn Write, report: &Report, opts: &ReportOptions) -> io::Result<()> {
    // One rules[] entry per rule id that occurs, in a stable order.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules_out = Vec::new();
    for f in &report.findings {
        if !index.contains_key(f.rule_id.as_str()) {
            index.insert(&f.rule_id, rules_out.len());
            rules_out.push(rule_entry(&f.rule_id, &f.description, f.severity));
        }
    }
    let results = report
        .findings
        .iter()
        .map(|f| result(f, index[f.rule_id.as_str()], opts))
        .collect::<io::Result<Vec<_>>>()?;
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "warning",
                "message": {"text": format!("{}: {}", e.path, e.message)},
                "descriptor": {"id": e.kind},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&e.path)}}}],
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "leakscan",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": INFO_URI,
                "rules": rules_out,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    });
    serde_json::to_writer_pretty(&mut *w, &doc).map_err(io::Error::other)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_escaped() {
        assert_eq!(uri("a.zip!/dir/x y.yaml"), "a.zip!/dir/x%20y.yaml");
        assert_eq!(uri("dir\\win.txt"), "dir/win.txt");
        assert_eq!(uri("naïve"), "na%C3%AFve");
    }
}
