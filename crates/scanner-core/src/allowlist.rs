//! Allowlists and rule overrides from a configuration file, applied to every finding in
//! `Scanner::scan_chunk` beside the inline allow comments (see [`crate::suppress`]).
//!
//! One [`Allowlist`] type serves leakscan.toml (`[allowlist]`, `[rules.ID.allowlist]`,
//! `[custom.allowlist]`) and gitleaks files (`[allowlist]`, `[[allowlists]]`,
//! `[[rules.allowlists]]`), so both formats mean the same thing once loaded.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use globset::GlobSet;
use regex::Regex;

use crate::finding::Severity;
use crate::origin::Origin;
use crate::rules::{line_end, line_start, MAX_LINE};

/// What an allowlist regex is matched against (gitleaks' `regexTarget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Target {
    /// The secret (the rule's secret group).
    #[default]
    Secret,
    /// The whole regex match (for built-in rules: the secret).
    Match,
    /// The line the finding starts on.
    Line,
}

/// How the configured checks of one allowlist combine (gitleaks' `condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Condition {
    /// Any configured check allows the finding.
    #[default]
    Or,
    /// Every configured check must allow it.
    And,
}

/// One allowlist: paths, value regexes, stopwords, commits.
#[derive(Debug, Clone, Default)]
pub(crate) struct Allowlist {
    /// leakscan path globs, matched against the path and each of its trailing parts.
    pub globs: Option<GlobSet>,
    /// gitleaks path regexes (unanchored, as in gitleaks).
    pub path_regexes: Vec<Regex>,
    /// Value regexes, matched against `target`.
    pub regexes: Vec<Regex>,
    /// What `regexes` look at.
    pub target: Target,
    /// Lower-cased words; a secret containing one is allowed.
    pub stopwords: Vec<String>,
    /// Commit ids (git findings); a prefix of at least 7 characters matches.
    pub commits: Vec<String>,
    /// How the checks combine.
    pub condition: Condition,
}

/// What one finding looks like to an allowlist.
pub(crate) struct Subject<'a> {
    pub path: &'a str,
    pub secret: &'a str,
    pub matched: &'a str,
    pub line: &'a str,
    pub commit: Option<&'a str>,
}

impl Allowlist {
    /// True when nothing is configured (such an allowlist allows nothing).
    pub fn is_empty(&self) -> bool {
        self.globs.is_none()
            && self.path_regexes.is_empty()
            && self.regexes.is_empty()
            && self.stopwords.is_empty()
            && self.commits.is_empty()
    }

    /// Whether this allowlist lets `s` pass unreported.
    pub fn allows(&self, s: &Subject<'_>) -> bool {
        let mut checks: [Option<bool>; 4] = [None; 4];
        if self.globs.is_some() || !self.path_regexes.is_empty() {
            checks[0] = Some(self.path_allowed(s.path));
        }
        if !self.regexes.is_empty() {
            let text = match self.target {
                Target::Secret => s.secret,
                Target::Match => s.matched,
                Target::Line => s.line,
            };
            checks[1] = Some(self.regexes.iter().any(|r| r.is_match(text)));
        }
        if !self.stopwords.is_empty() {
            let lower = s.secret.to_lowercase();
            checks[2] = Some(self.stopwords.iter().any(|w| lower.contains(w.as_str())));
        }
        if !self.commits.is_empty() {
            checks[3] = Some(s.commit.is_some_and(|c| {
                self.commits
                    .iter()
                    .any(|a| a.len() >= 7 && c.starts_with(a.as_str()))
            }));
        }
        let mut configured = checks.iter().flatten().peekable();
        if configured.peek().is_none() {
            return false;
        }
        match self.condition {
            Condition::Or => configured.any(|&b| b),
            Condition::And => configured.all(|&b| b),
        }
    }

    fn path_allowed(&self, path: &str) -> bool {
        if self.path_regexes.iter().any(|r| r.is_match(path)) {
            return true;
        }
        let Some(globs) = &self.globs else {
            return false;
        };
        // Paths are reported as reached from the scan argument (`repo/testdata/a.yaml`), so a
        // glob written relative to the config's directory must also match a trailing part.
        if globs.is_match(path) {
            return true;
        }
        path.match_indices('/')
            .any(|(i, _)| globs.is_match(&path[i + 1..]))
    }
}

/// Verdict of the configuration on one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Report it, with this severity if the configuration overrides it.
    Keep(Option<Severity>),
    /// Do not report it (disabled rule or allowlisted); counts as suppressed.
    Drop,
}

/// Everything a configuration says about which findings to report and how.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
    /// Allowlists for every rule.
    pub global: Vec<Allowlist>,
    /// Allowlists for one rule id.
    pub per_rule: HashMap<String, Vec<Allowlist>>,
    /// Rules whose findings are dropped.
    pub disabled: HashSet<String>,
    /// Severity overrides per rule id.
    pub severity: HashMap<String, Severity>,
}

impl Policy {
    /// Whether any allowlist looks at the finding's line (only then is it extracted).
    pub fn needs_line(&self) -> bool {
        self.global
            .iter()
            .chain(self.per_rule.values().flatten())
            .any(|a| a.target == Target::Line && !a.regexes.is_empty())
    }

    /// Whether the policy can change anything at all.
    pub fn is_empty(&self) -> bool {
        self.global.is_empty()
            && self.per_rule.is_empty()
            && self.disabled.is_empty()
            && self.severity.is_empty()
    }

    /// Decides one finding of rule `rule_id` that starts at `start` in `data` (the input
    /// from `origin`); `matched` is a custom rule's whole match.
    pub fn judge(
        &self,
        rule_id: &str,
        data: &[u8],
        start: usize,
        secret: &str,
        matched: Option<&str>,
        origin: &Origin,
    ) -> Verdict {
        if self.is_empty() {
            return Verdict::Keep(None);
        }
        let line = if self.needs_line() {
            let lo = line_start(data, start).unwrap_or(start.saturating_sub(MAX_LINE));
            String::from_utf8_lossy(&data[lo..line_end(data, start)])
        } else {
            Cow::Borrowed("")
        };
        let subject = Subject {
            path: &origin.path,
            secret,
            matched: matched.unwrap_or(secret),
            line: &line,
            commit: origin.git.as_ref().map(|g| g.commit.as_str()),
        };
        self.verdict(rule_id, &subject)
    }

    /// Decides one finding of rule `rule_id`.
    pub fn verdict(&self, rule_id: &str, s: &Subject<'_>) -> Verdict {
        if self.disabled.contains(rule_id) {
            return Verdict::Drop;
        }
        let rule_lists = self.per_rule.get(rule_id).map_or(&[][..], |v| &v[..]);
        if self.global.iter().chain(rule_lists).any(|a| a.allows(s)) {
            return Verdict::Drop;
        }
        Verdict::Keep(self.severity.get(rule_id).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject<'a>(path: &'a str, secret: &'a str) -> Subject<'a> {
        Subject {
            path,
            secret,
            matched: secret,
            line: secret,
            commit: None,
        }
    }

    #[test]
    fn globs_match_trailing_parts_of_the_path() {
        let mut b = globset::GlobSetBuilder::new();
        b.add(
            globset::GlobBuilder::new("testdata/**")
                .literal_separator(true)
                .build()
                .unwrap(),
        );
        let a = Allowlist {
            globs: Some(b.build().unwrap()),
            ..Allowlist::default()
        };
        assert!(a.allows(&subject("testdata/x.yaml", "s")));
        assert!(a.allows(&subject("repo/testdata/k/x.yaml", "s")));
        assert!(!a.allows(&subject("repo/src/testdata.yaml", "s")));
    }

    #[test]
    fn and_condition_needs_every_check() {
        let a = Allowlist {
            path_regexes: vec![Regex::new(r"\.tf$").unwrap()],
            stopwords: vec!["dummy".into()],
            condition: Condition::And,
            ..Allowlist::default()
        };
        assert!(a.allows(&subject("main.tf", "xDUMMYx")));
        assert!(!a.allows(&subject("main.tf", "real")));
        assert!(!a.allows(&subject("main.go", "dummy")));
        assert!(!Allowlist::default().allows(&subject("a", "b")));
    }
}
