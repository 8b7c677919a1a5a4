//! gitleaks-format TOML (`[[rules]]`, `[allowlist]`, `[[allowlists]]`), read leniently so a
//! team's existing gitleaks rules run unchanged: unknown keys are ignored, and a rule leakscan
//! cannot run (regex syntax the `regex` crate rejects, path-only or composite rules, an id
//! taken by a built-in rule) is listed in [`Config::skipped`] instead of failing the load.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::{toml_error, Config, ConfigFormat, SkippedRule};
use crate::allowlist::{Allowlist, Condition, Policy, Target};
use crate::error::Result;
use crate::finding::Severity;
use crate::rules::builtin;
use crate::rules::custom::{compile_regex, compile_text_regex, CustomRule, CustomRules};

#[derive(Deserialize)]
struct File {
    extend: Option<toml::Value>,
    allowlist: Option<AllowlistG>,
    #[serde(default)]
    allowlists: Vec<AllowlistG>,
    #[serde(default)]
    rules: Vec<RuleG>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AllowlistG {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    regexes: Vec<String>,
    regex_target: Option<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
    condition: Option<String>,
    #[serde(default)]
    target_rules: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleG {
    id: Option<String>,
    description: Option<String>,
    regex: Option<String>,
    path: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
    secret_group: Option<usize>,
    entropy: Option<f64>,
    allowlist: Option<AllowlistG>,
    #[serde(default)]
    allowlists: Vec<AllowlistG>,
    required: Option<toml::Value>,
}

/// True when a parsed TOML document is a gitleaks config rather than a leakscan.toml: it has
/// gitleaks' top-level keys or `[[rules]]` (leakscan's `[rules.ID]` is a table, not an array).
pub(super) fn looks_like(doc: &toml::Table) -> bool {
    if doc.contains_key("custom") {
        return false;
    }
    ["title", "minVersion", "extend", "allowlists"]
        .iter()
        .any(|k| doc.contains_key(*k))
        || matches!(doc.get("rules"), Some(toml::Value::Array(_)))
}

/// Parses a gitleaks config.
pub(super) fn parse(text: &str, path: &Path) -> Result<Config> {
    let file: File = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    let mut skipped = Vec::new();
    if file.extend.is_some() {
        skipped.push(SkippedRule {
            id: "[extend]".into(),
            reason: "extending another config is not supported; pass the base file itself \
                     with --config"
                .into(),
        });
    }
    let mut policy = Policy::default();
    for (i, a) in file
        .allowlist
        .into_iter()
        .chain(file.allowlists)
        .enumerate()
    {
        let place = format!("allowlist #{}", i + 1);
        let targets = a.target_rules.clone();
        let list = allowlist(a, &place, &mut skipped);
        if list.is_empty() {
            continue;
        }
        if targets.is_empty() {
            policy.global.push(list);
        } else {
            for t in targets {
                policy.per_rule.entry(t).or_default().push(list.clone());
            }
        }
    }
    let mut rules = CustomRules::default();
    let mut ids: HashSet<String> = HashSet::new();
    for (i, r) in file.rules.into_iter().enumerate() {
        let id = r.id.clone().unwrap_or_default();
        let id = if id.is_empty() {
            format!("rules[{i}]")
        } else {
            id
        };
        match rule(r, &id, &ids) {
            Ok((rule, lists)) => {
                for (n, a) in lists.into_iter().enumerate() {
                    let list = allowlist(a, &format!("{id} allowlist #{}", n + 1), &mut skipped);
                    if !list.is_empty() {
                        policy.per_rule.entry(id.clone()).or_default().push(list);
                    }
                }
                policy.severity.insert(id.clone(), rule.severity);
                ids.insert(id);
                rules.rules.push(rule);
            }
            Err(reason) => skipped.push(SkippedRule { id, reason }),
        }
    }
    Ok(Config {
        path: path.to_owned(),
        format: ConfigFormat::Gitleaks,
        rules,
        policy,
        skipped,
        digest: super::text_digest("gitleaks", text, None),
    })
}

/// Converts one `[[rules]]` entry, or says why it cannot run.
fn rule(
    r: RuleG,
    id: &str,
    seen: &HashSet<String>,
) -> std::result::Result<(CustomRule, Vec<AllowlistG>), String> {
    if r.id.as_deref().unwrap_or("").is_empty() {
        return Err("no id".into());
    }
    if seen.contains(id) {
        return Err("duplicate rule id".into());
    }
    if builtin(id).is_some() {
        return Err(format!(
            "leakscan's built-in rule {id:?} already covers it (with structural checks)"
        ));
    }
    if r.required.is_some() {
        return Err("composite rule ([[rules.required]]) is not supported".into());
    }
    let Some(pattern) = r.regex.filter(|p| !p.is_empty()) else {
        return Err(if r.path.is_some() {
            "path-only rule (matches file names, not content) is not supported".into()
        } else {
            "no regex".into()
        });
    };
    let regex = compile_regex(&pattern).map_err(|e| format!("regex: {e}"))?;
    if let Some(g) = r.secret_group.filter(|&g| g >= regex.captures_len()) {
        return Err(format!(
            "secretGroup {g} but the regex has {} group(s)",
            regex.captures_len() - 1
        ));
    }
    let path = match &r.path {
        Some(p) => Some(compile_text_regex(p).map_err(|e| format!("path regex: {e}"))?),
        None => None,
    };
    let rule = CustomRule {
        id: id.to_owned(),
        description: r
            .description
            .unwrap_or_else(|| format!("gitleaks rule {id}")),
        regex,
        keywords: r.keywords.iter().map(|k| k.to_lowercase()).collect(),
        // gitleaks treats 0 as "unset": the first non-empty group, else the whole match.
        secret_group: r.secret_group.filter(|&g| g > 0),
        entropy: r.entropy.filter(|&e| e > 0.0),
        severity: Severity::High,
        path,
    };
    Ok((rule, r.allowlist.into_iter().chain(r.allowlists).collect()))
}

/// Compiles one allowlist; entries that do not compile are skipped and reported.
fn allowlist(a: AllowlistG, place: &str, skipped: &mut Vec<SkippedRule>) -> Allowlist {
    let mut failed = false;
    let mut compile = |p: &str, what: &str| match compile_text_regex(p) {
        Ok(r) => Some(r),
        Err(reason) => {
            failed = true;
            skipped.push(SkippedRule {
                id: place.to_owned(),
                reason: format!("{what} {p:?} ignored: {reason}"),
            });
            None
        }
    };
    let path_regexes = a.paths.iter().filter_map(|p| compile(p, "path")).collect();
    let regexes = a
        .regexes
        .iter()
        .filter_map(|p| compile(p, "regex"))
        .collect();
    let path_regexes: Vec<_> = path_regexes;
    let regexes: Vec<_> = regexes;
    let target = match a.regex_target.as_deref() {
        Some("match") => Target::Match,
        Some("line") => Target::Line,
        _ => Target::Secret,
    };
    let condition = match a
        .condition
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("AND") => Condition::And,
        _ => Condition::Or,
    };
    if failed && condition == Condition::And {
        // Dropping one check of an AND list would make it allow more than it says.
        return Allowlist::default();
    }
    Allowlist {
        globs: None,
        path_regexes,
        regexes,
        target,
        stopwords: a.stopwords.iter().map(|w| w.to_lowercase()).collect(),
        commits: a.commits,
        condition,
    }
}
