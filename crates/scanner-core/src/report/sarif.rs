//! SARIF 2.1.0 renderer shaped for GitHub code scanning: one rule entry per rule id, a
//! `security-severity` per rule, `partialFingerprints` per result, relative `/` URIs.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::spool::{write_indented, Fragments, Key, Spool};
use super::{shown_secret, text, Format, Report, ReportOptions, RunStats, ScanError};
use crate::finding::{Finding, Severity};
use crate::problem::{Class, Problem};
use crate::rules;

const INFO_URI: &str = "https://github.com/leakscan/leakscan";

/// Percent-encodes what a URI reference may not hold (spaces, `%`, non-ASCII ...), keeping
/// `/` and the `!` of `ARCHIVE!/MEMBER` labels readable.
pub(crate) fn uri(path: &str) -> String {
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

/// Where the finding is: lines and columns in a text input, bytes in a binary one (SARIF
/// 2.1.0 §3.30.1: a region in a binary artifact "SHALL NOT define a text region").
fn region(f: &Finding) -> Value {
    if f.in_binary() {
        return json!({
            "byteOffset": f.byte_offset,
            "byteLength": f.byte_length.max(1),
        });
    }
    json!({
        "startLine": f.line.max(1),
        "startColumn": f.column.max(1),
        "endLine": f.end_line.max(f.line).max(1),
        "endColumn": f.end_column.max(1),
    })
}

/// One result, without its `ruleIndex` (known only once every finding is in).
pub(crate) fn result(f: &Finding, opts: &ReportOptions) -> io::Result<Value> {
    let mut props = Map::new();
    props.insert("severity".into(), json!(f.severity));
    props.insert("credential_id".into(), json!(f.credential_id));
    props.insert(
        "remediation".into(),
        serde_json::to_value(crate::analyse::remediation(f)).map_err(io::Error::other)?,
    );
    props.insert("decoded_from".into(), json!(f.decoded_from));
    // SARIF's versionControlProvenance is one per run; a fleet report has many.
    if let Some(r) = &f.repository {
        props.insert("repository".into(), json!(r));
    }
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
        "level": f.severity.sarif_level(),
        "message": {"text": message(f, opts)},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri(&f.path)},
                "region": region(f),
            }
        }],
        "partialFingerprints": {"leakscanFingerprint/v1": f.fingerprint},
        "properties": props,
    }))
}

/// Writes a SARIF 2.1.0 log with one run.
pub fn write_sarif(w: &mut dyn Write, report: &Report, opts: &ReportOptions) -> io::Result<()> {
    Spool::render(Format::Sarif, report, opts, w)
}

/// The SARIF log from spooled results, streamed one result at a time.
pub(crate) fn write_spooled(
    w: &mut dyn Write,
    keys: &[Key],
    seen: &BTreeMap<Arc<str>, (String, Severity)>,
    results: &mut Fragments<'_>,
    stats: &RunStats,
    errors: &[ScanError],
    config_digest: Option<&str>,
) -> io::Result<()> {
    // One rules[] entry per rule id that occurs, in order of first appearance.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules_out = Vec::new();
    for k in keys {
        if !index.contains_key(&*k.rule) {
            index.insert(&k.rule, rules_out.len());
            let (desc, sev) = seen.get(&k.rule).cloned().unwrap_or_default();
            rules_out.push(rule_entry(&k.rule, &desc, sev));
        }
    }
    // Counts first: per-path notifications leave out routine skips (binary, hidden ...)
    // unless -v, but a reader must still see how much was not scanned and why.
    let mut notifications: Vec<Value> = stats
        .skipped_by_reason
        .iter()
        .map(|(kind, &n)| count_notification(kind, n))
        .collect();
    notifications.extend(errors.iter().map(|e| {
        json!({
            "level": "warning",
            "message": {"text": format!("{}: {}", e.location(), e.message)},
            "descriptor": {"id": e.kind},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&e.path)}}}],
        })
    }));
    let tool = json!({"driver": {
        "name": "leakscan",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "informationUri": INFO_URI,
        "rules": rules_out,
    }});
    let mut invocations = json!([{
        "executionSuccessful": true,
        "toolExecutionNotifications": notifications,
        "properties": {
            "skipped": stats.skipped,
            "incomplete": stats.incomplete,
            "complete": stats.complete,
            "skipped_by_reason": stats.skipped_by_reason,
        },
    }]);
    if let Some(d) = config_digest {
        invocations[0]["properties"]["config_digest"] = json!(d);
    }
    write!(
        w,
        "{{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \
         \"version\": \"2.1.0\",\n  \"runs\": [\n    {{\n      \"tool\": "
    )?;
    write_indented(w, &serde_json::to_vec_pretty(&tool)?, 6)?;
    write!(w, ",\n      \"invocations\": ")?;
    write_indented(w, &serde_json::to_vec_pretty(&invocations)?, 6)?;
    write!(w, ",\n      \"results\": [")?;
    for (i, k) in keys.iter().enumerate() {
        w.write_all(if i == 0 {
            b"\n        {"
        } else {
            b",\n        {"
        })?;
        write!(w, "\n          \"ruleIndex\": {},", index[&*k.rule])?;
        let frag = results.get(k)?;
        // The fragment is `{ ... }` pretty-printed at depth 0: its body follows the index.
        write_indented(w, frag.get(1..).unwrap_or_default(), 8)?;
    }
    w.write_all(if keys.is_empty() { b"]" } else { b"\n      ]" })?;
    writeln!(w, "\n    }}\n  ]\n}}")
}

/// The notification that counts the inputs of one kind not (fully) scanned.
fn count_notification(kind: &str, n: u64) -> Value {
    let class = Problem::from_name(kind).map(Problem::class);
    let (level, what) = match class {
        Some(Class::Incomplete) => ("warning", "not read in full"),
        _ => ("note", "skipped on purpose"),
    };
    let inputs = if n == 1 { "input" } else { "inputs" };
    json!({
        "level": level,
        "message": {"text": format!("{n} {inputs} {what}: {kind}")},
        "descriptor": {"id": kind},
        "properties": {"count": n, "class": class},
    })
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
