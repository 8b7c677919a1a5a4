//! Rules from a configuration file (leakscan.toml `[[custom]]`, gitleaks `[[rules]]`).
//!
//! A custom rule is a regex, confirmed only around hits of its keywords in the prefilter's
//! case-insensitive custom automaton: each hit opens a bounded window (whole lines from up to
//! [`BEFORE`] bytes before the keyword to [`AFTER`] bytes after it), windows of one rule that
//! overlap are merged so no byte is searched twice, and the regex runs over each window. A
//! rule without keywords runs over the whole input, which is slower.

use std::borrow::Cow;
use std::ops::Range;

use regex::bytes::{Regex, RegexBuilder};

use crate::candidate::Candidate;
use crate::finding::Severity;

/// How far before a keyword a match may start (multi-line rules such as a Kubernetes
/// Secret manifest put the secret's key before or after `kind: Secret`).
pub(crate) const BEFORE: usize = 1024;
/// How far after a keyword a match may end (a 4096-bit RSA PEM block is ~3.3 KiB).
pub(crate) const AFTER: usize = 4096;

/// One compiled custom rule.
#[derive(Debug, Clone)]
pub(crate) struct CustomRule {
    pub id: String,
    pub description: String,
    pub regex: Regex,
    /// Lower-cased keywords; empty means "search every input".
    pub keywords: Vec<String>,
    /// Capture group holding the secret; `None` = first non-empty group, else the match.
    pub secret_group: Option<usize>,
    /// The secret's Shannon entropy must exceed this (bits per character).
    pub entropy: Option<f64>,
    pub severity: Severity,
    /// Only inputs whose path matches (gitleaks `path`).
    pub path: Option<regex::Regex>,
}

/// Compiles a rule regex the way gitleaks (Go RE2) means it: `\w`, `\d`, `\s` and `(?i)` are
/// ASCII-only. Patterns that need Unicode (`\p{L}`) are compiled with Unicode enabled.
pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    let pattern = go_braces(pattern);
    let build = |unicode: bool| {
        RegexBuilder::new(&pattern)
            .unicode(unicode)
            .size_limit(32 * (1 << 20))
            .build()
    };
    build(false)
        .or_else(|_| build(true))
        .map_err(|e| regex_reason(&e))
}

/// Compiles an allowlist regex (matched against text) with the same Go compatibility.
pub(crate) fn compile_text_regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(&go_braces(pattern)).map_err(|e| regex_reason(&e))
}

/// The regex crate's messages span several lines with a caret diagram; the last line is
/// the reason, which is what a one-line report needs.
fn regex_reason(e: &regex::Error) -> String {
    let msg = e.to_string();
    let reason = msg
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    reason.trim().trim_start_matches("error: ").to_owned()
}

/// Go's RE2 reads a `{` that does not open a repetition (`{2}`, `{2,}`, `{2,5}`) as a literal
/// brace, e.g. `\${\d+}` or `import {`; the regex crate rejects it. Escaping such braces
/// (outside character classes) gives the regex crate the pattern gitleaks means.
pub(crate) fn go_braces(p: &str) -> Cow<'_, str> {
    let b = p.as_bytes();
    let mut out: Option<String> = None;
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b[i];
        let mut step = 1;
        match c {
            b'\\' => {
                step = 2;
                // `\p{Greek}`, `\x{263a}`: the braces belong to the escape.
                if matches!(b.get(i + 1), Some(b'p' | b'P' | b'x')) && b.get(i + 2) == Some(&b'{') {
                    if let Some(close) = p[i + 2..].find('}') {
                        step = close + 3;
                    }
                }
            }
            b'[' if !in_class => {
                in_class = true;
                // `[]...]` and `[^]...]`: a leading `]` is a literal.
                let mut j = i + 1;
                if b.get(j) == Some(&b'^') {
                    j += 1;
                }
                if b.get(j) == Some(&b']') {
                    j += 1;
                }
                step = j - i;
            }
            b'[' if b.get(i + 1) == Some(&b':') => {
                // A POSIX class like `[:alpha:]` inside a bracket expression.
                if let Some(end) = p[i + 2..].find(":]") {
                    step = end + 4;
                }
            }
            b']' if in_class => in_class = false,
            b'{' if !in_class && !is_repetition(&b[i + 1..]) => {
                let s = out.get_or_insert_with(|| p[..i].to_owned());
                s.push_str("\\{");
                i += 1;
                continue;
            }
            _ => {}
        }
        let end = (i + step).min(b.len());
        if let Some(s) = &mut out {
            s.push_str(&p[i..end]);
        }
        i = end;
    }
    out.map_or(Cow::Borrowed(p), Cow::Owned)
}

/// True when `rest` (after a `{`) is `N}`, `N,}` or `N,M}`.
fn is_repetition(rest: &[u8]) -> bool {
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let n = digits(rest);
    if n == 0 {
        return false;
    }
    match rest.get(n) {
        Some(b'}') => true,
        Some(b',') => {
            let m = digits(&rest[n + 1..]);
            rest.get(n + 1 + m) == Some(&b'}')
        }
        _ => false,
    }
}

/// Shannon entropy of `s` in bits per character, as gitleaks computes it.
pub(crate) fn shannon_entropy(s: &str) -> f64 {
    let mut counts: std::collections::HashMap<char, u32> = std::collections::HashMap::new();
    let mut n = 0u32;
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .values()
        .map(|&k| {
            let p = f64::from(k) / n;
            -p * p.log2()
        })
        .sum()
}

/// The compiled custom rules of one configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct CustomRules {
    pub rules: Vec<CustomRule>,
}

impl CustomRules {
    /// `(keyword, rule index)` pairs for the prefilter.
    pub fn keywords(&self) -> Vec<(String, usize)> {
        self.rules
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.keywords.iter().map(move |k| (k.clone(), i)))
            .collect()
    }

    /// Whether there is anything to run.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Runs every rule that a keyword hit (`(rule, start, end)`) or the lack of keywords
    /// selects over `data` (an input from `path`), pushing confirmed candidates.
    pub fn scan(
        &self,
        data: &[u8],
        hits: impl Iterator<Item = (usize, Range<usize>)>,
        path: &str,
        out: &mut Vec<Candidate>,
    ) {
        let mut windows: Vec<(usize, usize, usize)> = hits
            .map(|(rule, r)| (rule, window_start(data, r.start), window_end(data, r.end)))
            .collect();
        for (i, r) in self.rules.iter().enumerate() {
            if r.keywords.is_empty() {
                windows.push((i, 0, data.len()));
            }
        }
        if windows.is_empty() {
            return;
        }
        windows.sort_unstable();
        let mut merged: Vec<(usize, usize, usize)> = Vec::with_capacity(windows.len());
        for w in windows {
            match merged.last_mut() {
                Some(last) if last.0 == w.0 && w.1 <= last.2 => last.2 = last.2.max(w.2),
                _ => merged.push(w),
            }
        }
        let mut applies: Vec<Option<bool>> = vec![None; self.rules.len()];
        for (i, lo, hi) in merged {
            let rule = &self.rules[i];
            let ok = *applies[i]
                .get_or_insert_with(|| rule.path.as_ref().is_none_or(|p| p.is_match(path)));
            if ok {
                rule.find(data, lo..hi, out);
            }
        }
    }
}

impl CustomRule {
    /// Runs the regex over `data[window]`.
    fn find(&self, data: &[u8], window: Range<usize>, out: &mut Vec<Candidate>) {
        let base = window.start;
        for caps in self.regex.captures_iter(&data[window]) {
            let Some(whole) = caps.get(0) else { continue };
            let secret = match self.secret_group {
                Some(g) => caps.get(g),
                None => (1..caps.len())
                    .find_map(|g| caps.get(g).filter(|m| !m.is_empty()))
                    .or(Some(whole)),
            };
            let Some(secret) = secret.filter(|m| !m.is_empty()) else {
                continue;
            };
            let text = String::from_utf8_lossy(secret.as_bytes()).into_owned();
            if self
                .entropy
                .is_some_and(|min| shannon_entropy(&text) <= min)
            {
                continue;
            }
            let mut c = Candidate::new("", base + secret.start(), base + secret.end(), text);
            c.rule_id = Cow::Owned(self.id.clone());
            c.description = Some(self.description.clone());
            c.matched = Some(String::from_utf8_lossy(whole.as_bytes()).into_owned());
            out.push(c);
        }
    }
}

/// Start of the window for a keyword at `pos`: the first line start at most [`BEFORE`]
/// bytes back (or exactly that far back inside a very long line).
fn window_start(data: &[u8], pos: usize) -> usize {
    let lo = pos.saturating_sub(BEFORE);
    if lo == 0 {
        return 0;
    }
    match memchr::memchr(b'\n', &data[lo..pos]) {
        Some(p) => lo + p + 1,
        None => lo,
    }
}

/// End of the window for a keyword ending at `pos`: [`AFTER`] bytes on, finished to the end
/// of that line if it ends within another [`BEFORE`] bytes.
fn window_end(data: &[u8], pos: usize) -> usize {
    let hi = (pos + AFTER).min(data.len());
    let limit = (hi + BEFORE).min(data.len());
    memchr::memchr(b'\n', &data[hi..limit]).map_or(limit, |p| hi + p + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_known_strings() {
        assert_eq!(shannon_entropy(""), 0.0);
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn go_style_classes_are_ascii_and_unicode_classes_still_compile() {
        let r = compile_regex(r"^\w+$").unwrap();
        assert!(r.is_match(b"abc_1"));
        assert!(!r.is_match("é".as_bytes()));
        assert!(compile_regex(r"\p{Greek}+").is_ok());
        // Go reads a brace that opens no repetition as a literal.
        let r = compile_regex(r"^\$\{(?:[A-Z_]+)}$|^\${\d+}$|a{2}").unwrap();
        assert!(r.is_match(b"${HOME}") && r.is_match(b"${12}") && r.is_match(b"aa"));
        assert_eq!(go_braces(r"[{]x{1,3}"), r"[{]x{1,3}");
        assert_eq!(go_braces(r"import {[ \w,]+}"), r"import \{[ \w,]+}");
        let err = compile_regex(r"(?<=a)b").unwrap_err();
        assert!(err.contains("look-around"), "{err}");
    }
}
