//! The real-world corpus (`testdata/corpus/`, issue 9 item 7): loads `expectations.toml`,
//! renders substituted snippets with freshly generated credentials, scans every snippet the
//! way `leakscan scan` does and compares with the expectations. Shared by `tests/corpus.rs`
//! and `examples/corpus_report.rs` (which needs `tests/common` beside it).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::Rng;
use serde::Deserialize;

use scanner_core::{Finding, Origin, Scanner};

use crate::common;

/// 2025-01-01T00:00:00Z, as the other fixture tests, so expiry never depends on the clock.
pub const NOW: i64 = 1_735_689_600;

/// `expectations.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// One entry per snippet file.
    pub snippet: Vec<Snippet>,
}

/// One snippet: where it came from and what should be found in it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snippet {
    /// Path relative to `testdata/corpus/`.
    pub file: String,
    /// The context it illustrates (its directory).
    pub context: String,
    /// Repository and path (and commit), or URL.
    pub source: String,
    /// Why it is a positive or a negative.
    pub note: String,
    /// A template whose credentials are generated at test time.
    #[serde(default)]
    pub substituted: bool,
    /// A template as pasted from a terminal this many columns wide: every longer line (the
    /// generated credential's included) is broken there and goes on at column 0.
    #[serde(default)]
    pub wrap: Option<usize>,
    /// What a scanner should report (empty: a negative).
    pub findings: Vec<Expected>,
    /// What leakscan reports today although it should not.
    #[serde(default)]
    pub known_extra: Vec<Expected>,
}

/// One finding, expected or known to be reported wrongly.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// Rule id (`leakscan rules`), or a proposed one while `known_gap` says so.
    pub rule_id: String,
    /// 1-based line of the finding's first byte.
    pub line: usize,
    /// Expected severity, when the context decides it (samples are `info`).
    pub severity: Option<String>,
    /// Why leakscan does not do this yet (an issue-9 item); the test fails once it does.
    pub known_gap: Option<String>,
}

/// How one snippet came out.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Expected findings that were found.
    pub found: usize,
    /// Unexpected findings (false positives), known or not.
    pub extra: usize,
    /// Problems that fail the test: new misses, new extras, closed gaps.
    pub failures: Vec<String>,
}

/// `testdata/corpus/`.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus")
}

/// Parses `expectations.toml`.
pub fn load() -> Expectations {
    let path = root().join("expectations.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}` from the thread RNG.
fn bootstrap_token() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let mut pick = |n: usize| -> String {
        (0..n)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect()
    };
    format!("{}.{}", pick(6), pick(16))
}

/// 32 random hex digits, as `head -c 16 /dev/urandom | od -An -t x` gives.
fn hex32() -> String {
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| format!("{:02x}", rng.gen::<u8>()))
        .collect()
}

/// The snippet's bytes; templates get freshly generated credentials in place of their markers.
pub fn bytes(s: &Snippet) -> Vec<u8> {
    let path = root().join(&s.file);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if !s.substituted {
        return raw;
    }
    let text = String::from_utf8(raw).expect("templates are UTF-8");
    let markers = [
        "{{leakscan:legacy-jwt}}",
        "{{leakscan:bound-jwt}}",
        "{{leakscan:bootstrap-token}}",
        "{{leakscan:hex32}}",
    ];
    assert!(
        markers.iter().any(|m| text.contains(m)),
        "{}: substituted but has no marker",
        s.file
    );
    let text = text
        .replace(
            markers[0],
            &common::legacy_token("ci", "deployer", "deployer-token-m4n8z"),
        )
        .replace(
            markers[1],
            &common::bound_token(
                "apps",
                "api",
                "api-7d9f8c6b5-x2k4q",
                "https://kubernetes.default.svc.cluster.local",
                NOW - 600,
                3600,
            ),
        )
        .replace(markers[2], &bootstrap_token())
        .replace(markers[3], &hex32());
    match s.wrap {
        Some(width) => hard_wrap(&text, width),
        None => text,
    }
    .into_bytes()
}

/// `text` as a terminal `width` columns wide shows it, copied with its hard line breaks
/// (ASCII text: one byte a column).
fn hard_wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width + 1);
    for line in text.split_inclusive('\n') {
        let (body, nl) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        let mut rest = body;
        while rest.len() > width {
            let (row, more) = rest.split_at(width);
            out.push_str(row);
            out.push('\n');
            rest = more;
        }
        out.push_str(rest);
        out.push_str(nl);
    }
    out
}

/// Scans one snippet as `leakscan scan` scans a file's content.
pub fn scan(scanner: &Scanner, s: &Snippet) -> Vec<Finding> {
    scanner.scan_bytes(&bytes(s), &Origin::path(&s.file))
}

fn matches(e: &Expected, f: &Finding, with_severity: bool) -> bool {
    e.rule_id == f.rule_id
        && e.line == f.line
        && (!with_severity
            || e.severity
                .as_deref()
                .is_none_or(|s| s == f.severity.to_string()))
}

/// Compares one snippet's findings with its expectations.
pub fn compare(s: &Snippet, got: &[Finding]) -> Outcome {
    let mut out = Outcome::default();
    let mut used = vec![false; got.len()];
    for e in &s.findings {
        // A finding at the right rule and line with the wrong severity is consumed (it is not
        // an extra) but does not count as found.
        let exact = (0..got.len()).find(|&i| !used[i] && matches(e, &got[i], true));
        let loose =
            exact.or_else(|| (0..got.len()).find(|&i| !used[i] && matches(e, &got[i], false)));
        if let Some(i) = loose {
            used[i] = true;
        }
        let hit = exact.is_some();
        if hit {
            out.found += 1;
        }
        match (hit, &e.known_gap) {
            (true, Some(gap)) => out.failures.push(format!(
                "{}: {}@{} is found now: remove known_gap \"{gap}\"",
                s.file, e.rule_id, e.line
            )),
            (false, None) => out.failures.push(format!(
                "{}: missed {}@{}{} (got {:?})",
                s.file,
                e.rule_id,
                e.line,
                e.severity
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default(),
                got.iter()
                    .map(|f| format!("{}@{} {}", f.rule_id, f.line, f.severity))
                    .collect::<Vec<_>>()
            )),
            _ => {}
        }
    }
    let mut extras_known = vec![false; s.known_extra.len()];
    for (_, f) in got.iter().enumerate().filter(|(i, _)| !used[*i]) {
        out.extra += 1;
        match s.known_extra.iter().position(|x| matches(x, f, true)) {
            Some(k) => extras_known[k] = true,
            None => out.failures.push(format!(
                "{}: unexpected {}@{} ({})",
                s.file, f.rule_id, f.line, f.severity
            )),
        }
    }
    for (x, seen) in s.known_extra.iter().zip(extras_known) {
        if !seen {
            out.failures.push(format!(
                "{}: known extra {}@{} is gone: remove it",
                s.file, x.rule_id, x.line
            ));
        }
    }
    out
}

/// Per-context figures.
#[derive(Debug, Default, Clone)]
pub struct Row {
    /// Snippets in the context.
    pub snippets: usize,
    /// Of which negatives (nothing expected).
    pub negatives: usize,
    /// Expected findings.
    pub expected: usize,
    /// Expected findings found.
    pub found: usize,
    /// Findings that should not be there.
    pub false_positives: usize,
}

/// Scans the whole corpus: per-context figures and every failure.
pub fn run() -> (BTreeMap<String, Row>, Vec<String>) {
    let exp = load();
    let scanner = Scanner::builder().now(NOW).build().unwrap();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut failures = Vec::new();
    for s in &exp.snippet {
        let got = scan(&scanner, s);
        let out = compare(s, &got);
        let row = rows.entry(s.context.clone()).or_default();
        row.snippets += 1;
        row.negatives += usize::from(s.findings.is_empty());
        row.expected += s.findings.len();
        row.found += out.found;
        row.false_positives += out.extra;
        failures.extend(out.failures);
    }
    (rows, failures)
}

/// The per-context table as Markdown (README's "Real-world corpus").
pub fn table(rows: &BTreeMap<String, Row>) -> String {
    let mut t = String::from(
        "| context | snippets | negatives | expected | found | recall | false positives |\n|---|---|---|---|---|---|---|\n",
    );
    let mut all = Row::default();
    let mut line = |name: &str, r: &Row| {
        let recall = if r.expected == 0 {
            "–".to_string()
        } else {
            format!("{:.0}%", 100.0 * r.found as f64 / r.expected as f64)
        };
        t.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {recall} | {} |\n",
            r.snippets, r.negatives, r.expected, r.found, r.false_positives
        ));
    };
    for (name, r) in rows {
        line(name, r);
        all.snippets += r.snippets;
        all.negatives += r.negatives;
        all.expected += r.expected;
        all.found += r.found;
        all.false_positives += r.false_positives;
    }
    line("**all**", &all);
    t
}
