//! `leakscan.toml`: strict (unknown keys are errors), every error names file:line:column.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use globset::{GlobBuilder, GlobSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use super::{error_at, toml_error, Config, ConfigFormat};
use crate::allowlist::{Allowlist, Condition, Policy, Target};
use crate::error::Result;
use crate::finding::Severity;
use crate::rules::custom::{compile_regex, compile_text_regex, CustomRule, CustomRules};
use crate::rules::{builtin, BUILTIN_RULES};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// A configuration (gitleaks or leakscan) this one builds on, relative to this file.
    #[serde(default)]
    extends: Option<Spanned<String>>,
    #[serde(default)]
    allowlist: Option<AllowlistToml>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, RuleToml>,
    #[serde(default)]
    custom: Vec<CustomToml>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AllowlistToml {
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    regexes: Vec<Spanned<String>>,
    regex_target: Option<Spanned<String>>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
    condition: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    enabled: Option<bool>,
    severity: Option<Spanned<String>>,
    allowlist: Option<AllowlistToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomToml {
    id: Spanned<String>,
    description: Option<String>,
    regex: Spanned<String>,
    #[serde(default)]
    keywords: Vec<Spanned<String>>,
    secret_group: Option<Spanned<usize>>,
    entropy: Option<Spanned<f64>>,
    severity: Option<Spanned<String>>,
    allowlist: Option<AllowlistToml>,
}

/// Position-aware error builder for one file.
struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn err<T>(&self, span: std::ops::Range<usize>, msg: impl Into<String>) -> Result<T> {
        Err(error_at(self.path, self.text, span, msg))
    }

    fn severity(&self, s: &Spanned<String>) -> Result<Severity> {
        s.get_ref()
            .parse()
            .or_else(|e: String| self.err(s.span(), e))
    }

    fn allowlist(&self, a: AllowlistToml) -> Result<Allowlist> {
        let mut globs = GlobSetBuilder::new();
        for p in &a.paths {
            let glob = GlobBuilder::new(p.get_ref())
                .literal_separator(true)
                .build()
                .or_else(|e| self.err(p.span(), format!("invalid glob: {}", e.kind())))?;
            globs.add(glob);
        }
        let globs = if a.paths.is_empty() {
            None
        } else {
            let set = globs
                .build()
                .or_else(|e| self.err(a.paths[0].span(), format!("invalid glob: {e}")))?;
            Some(set)
        };
        let mut regexes = Vec::new();
        for r in &a.regexes {
            let re = compile_text_regex(r.get_ref())
                .or_else(|reason| self.err(r.span(), format!("invalid regex: {reason}")))?;
            regexes.push(re);
        }
        let target = match &a.regex_target {
            None => Target::Secret,
            Some(t) => match t.get_ref().as_str() {
                "secret" => Target::Secret,
                "match" => Target::Match,
                "line" => Target::Line,
                other => {
                    return self.err(
                        t.span(),
                        format!("unknown regex_target {other:?} (expected secret, match or line)"),
                    )
                }
            },
        };
        let condition = match &a.condition {
            None => Condition::Or,
            Some(c) => match c.get_ref().to_ascii_lowercase().as_str() {
                "or" => Condition::Or,
                "and" => Condition::And,
                other => {
                    return self.err(
                        c.span(),
                        format!("unknown condition {other:?} (expected or, and)"),
                    )
                }
            },
        };
        Ok(Allowlist {
            globs,
            path_regexes: Vec::new(),
            regexes,
            target,
            stopwords: a.stopwords.iter().map(|w| w.to_lowercase()).collect(),
            commits: a.commits,
            condition,
        })
    }

    fn custom(&self, c: CustomToml) -> Result<(CustomRule, Option<Allowlist>)> {
        let id = c.id.get_ref().trim().to_owned();
        if id.is_empty() || id.contains(char::is_whitespace) {
            return self.err(c.id.span(), "a rule id must be non-empty, without spaces");
        }
        if builtin(&id).is_some() {
            return self.err(
                c.id.span(),
                format!("{id:?} is a built-in rule id; custom rules need their own"),
            );
        }
        let regex = compile_regex(c.regex.get_ref())
            .or_else(|reason| self.err(c.regex.span(), format!("invalid regex: {reason}")))?;
        let mut keywords = Vec::new();
        for k in &c.keywords {
            if k.get_ref().is_empty() {
                return self.err(k.span(), "keywords must not be empty strings");
            }
            keywords.push(k.get_ref().to_lowercase());
        }
        let secret_group = match &c.secret_group {
            Some(g) if *g.get_ref() >= regex.captures_len() => {
                return self.err(
                    g.span(),
                    format!(
                        "secret_group {} but the regex has only {} capture group(s)",
                        g.get_ref(),
                        regex.captures_len() - 1
                    ),
                )
            }
            Some(g) => Some(*g.get_ref()),
            None => None,
        };
        let entropy = match &c.entropy {
            Some(e) if !(0.0..=64.0).contains(e.get_ref()) => {
                return self.err(e.span(), "entropy must be between 0 and 64 (bits per char)")
            }
            Some(e) => Some(*e.get_ref()),
            None => None,
        };
        let severity = match &c.severity {
            Some(s) => self.severity(s)?,
            None => Severity::High,
        };
        let allowlist = c.allowlist.map(|a| self.allowlist(a)).transpose()?;
        let rule = CustomRule {
            description: c.description.unwrap_or_else(|| format!("Custom rule {id}")),
            id,
            regex,
            keywords,
            secret_group,
            entropy,
            severity,
            path: None,
        };
        Ok((rule, allowlist))
    }
}

/// How many `extends` links a chain may have (also what stops a cycle).
const MAX_EXTENDS: usize = 4;

/// Parses a leakscan.toml; `depth` counts the `extends` links followed to reach it.
pub(super) fn parse(text: &str, path: &Path, depth: usize) -> Result<Config> {
    let file: File = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    let cx = Ctx { path, text };
    // The base's rules and policy come first; this file's settings are layered on top, so
    // `[rules.ID]` may disable or re-severity an imported rule.
    let (mut rules, mut policy, skipped, base_digest) = match &file.extends {
        None => (CustomRules::default(), Policy::default(), Vec::new(), None),
        Some(base) => {
            if depth >= MAX_EXTENDS {
                return cx.err(
                    base.span(),
                    format!("more than {MAX_EXTENDS} `extends` links (a cycle?)"),
                );
            }
            let base_path = path.parent().unwrap_or(Path::new(".")).join(base.get_ref());
            let base_text = match std::fs::read_to_string(&base_path) {
                Ok(t) => t,
                Err(e) => {
                    return cx.err(base.span(), format!("{}: {e}", base_path.display()));
                }
            };
            let c = super::parse_at(&base_text, &base_path, depth + 1)?;
            (c.rules, c.policy, c.skipped, Some(c.digest))
        }
    };
    let mut ids: HashSet<String> = rules.rules.iter().map(|r| r.id.clone()).collect();
    if let Some(a) = file.allowlist {
        let a = cx.allowlist(a)?;
        if !a.is_empty() {
            policy.global.push(a);
        }
    }
    for c in file.custom {
        let span = c.id.span();
        let (rule, allowlist) = cx.custom(c)?;
        if !ids.insert(rule.id.clone()) {
            return cx.err(
                span,
                format!(
                    "duplicate custom rule id {:?} (here or in the base)",
                    rule.id
                ),
            );
        }
        if let Some(a) = allowlist.filter(|a| !a.is_empty()) {
            policy.per_rule.entry(rule.id.clone()).or_default().push(a);
        }
        // A `[rules.ID] severity` below may still override it.
        policy.severity.insert(rule.id.clone(), rule.severity);
        rules.rules.push(rule);
    }
    for (id, r) in file.rules {
        if builtin(id.get_ref()).is_none() && !ids.contains(id.get_ref()) {
            let known: Vec<&str> = BUILTIN_RULES.iter().map(|r| r.id).collect();
            return cx.err(
                id.span(),
                format!(
                    "unknown rule id {:?} (built-in rules: {}; or a [[custom]] id)",
                    id.get_ref(),
                    known.join(", ")
                ),
            );
        }
        let id_s = id.get_ref().clone();
        if r.enabled == Some(false) {
            policy.disabled.insert(id_s.clone());
        }
        if let Some(s) = &r.severity {
            policy.severity.insert(id_s.clone(), cx.severity(s)?);
        }
        if let Some(a) = r.allowlist {
            let a = cx.allowlist(a)?;
            if !a.is_empty() {
                policy.per_rule.entry(id_s).or_default().push(a);
            }
        }
    }
    Ok(Config {
        path: path.to_owned(),
        format: ConfigFormat::Leakscan,
        rules,
        policy,
        skipped,
        digest: super::text_digest("leakscan", text, base_digest),
    })
}
