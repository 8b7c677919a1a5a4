//! Names from scanned data (file and archive-member names, messages that quote them) made
//! safe for a terminal: a hostile name must not set the window title, clear the screen,
//! forge report lines or reorder text.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` with control characters (C0, DEL, C1), and bidirectional overrides escaped as
/// `\n`, `\t`, `\r`, `\e` or `\u{XXXX}`; unchanged (borrowed) when there is none.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x1b' => out.push_str("\\e"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:04X}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    // Bidi embeddings, overrides and isolates ("Trojan Source").
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn plain_names_are_borrowed_hostile_ones_escaped() {
        assert!(matches!(
            terminal_safe("a/b.yaml"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            terminal_safe("x\x1b]0;pwned\x07\x1b[2J\nfake.yaml:1:1 critical"),
            "x\\e]0;pwned\\u{0007}\\e[2J\\nfake.yaml:1:1 critical"
        );
        assert_eq!(terminal_safe("a\u{9b}b\u{202E}c"), "a\\u{009B}b\\u{202E}c");
    }
}
