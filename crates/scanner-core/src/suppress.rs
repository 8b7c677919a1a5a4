//! Findings the user asked not to see. Inline allow comments live here; the scanner counts
//! every finding it drops so the report can say how many were suppressed.

use memchr::memmem;

use crate::rules::{line_end, line_start, MAX_LINE};

/// Comments that allow the secret on their line. gitleaks' and detect-secrets' spellings are
/// accepted so teams migrating to leakscan keep their annotations.
pub const ALLOW_MARKERS: &[&str] = &[
    "leakscan:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
];

/// True when a line the finding `start..end` touches carries an allow marker. For a
/// multi-line finding (a PEM block, a wrapped base64 value) its first and last lines count.
pub(crate) fn inline_allowed(data: &[u8], start: usize, end: usize) -> bool {
    let start = start.min(data.len());
    let last = end.saturating_sub(1).clamp(start, data.len());
    let lo = line_start(data, start).unwrap_or(start.saturating_sub(MAX_LINE));
    let hi = line_end(data, last);
    let text = &data[lo..hi];
    // A finding that spans many lines is checked on its first and last lines only: an
    // allow comment somewhere inside a long blob must not silence it.
    let first_end = memchr::memchr(b'\n', text).map_or(text.len(), |p| p + 1);
    let last_start =
        memchr::memrchr(b'\n', &text[..text.len().saturating_sub(1)]).map_or(0, |p| p + 1);
    let lines: [&[u8]; 2] = [
        &text[..first_end],
        &text[last_start.max(first_end.min(text.len()))..],
    ];
    lines.iter().any(|line| {
        ALLOW_MARKERS
            .iter()
            .any(|m| memmem::find(line, m.as_bytes()).is_some())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_on_the_line_allows() {
        let text = b"a: 1\ntoken: abc # leakscan:allow\nb: 2\n";
        let at = 12;
        assert!(inline_allowed(text, at, at + 3));
        let text = b"a: 1\ntoken: abc\n# leakscan:allow\n";
        assert!(!inline_allowed(text, at, at + 3));
    }

    #[test]
    fn multi_line_finding_checks_first_and_last_line_only() {
        let text = b"k: |\n  BEGIN\n  x # gitleaks:allow\n  END\n";
        assert!(!inline_allowed(text, 7, 40));
        let text = b"k: |\n  BEGIN\n  x\n  END # pragma: allowlist secret\n";
        assert!(inline_allowed(text, 7, 21));
    }
}
