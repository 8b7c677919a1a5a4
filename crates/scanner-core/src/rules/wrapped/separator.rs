//! What may sit between two pieces of a token that a wrap split: a line break (LF or CRLF),
//! readline's redraw at the right margin of a terminal, the continuation markers of shells,
//! books and blogs, indentation, and terminal escape sequences; and how wide a line looks on
//! a terminal, to tell a hard wrap (every full line equally wide) from a line that ended.

/// Most bytes between two pieces (markers, indentation, escape sequences, line break).
pub(super) const MAX_GAP: usize = 64;

/// Markers a book or blog puts at the end of a line it wrapped: `↩`, `⏎`, `↵`.
const END_MARKERS: [&[u8]; 3] = [
    "\u{21a9}".as_bytes(),
    "\u{23ce}".as_bytes(),
    "\u{21b5}".as_bytes(),
];
/// Markers at the start of the continuation line: `➥`, `↪`.
const START_MARKERS: [&[u8]; 2] = ["\u{27a5}".as_bytes(), "\u{21aa}".as_bytes()];
/// Blanks allowed before an end marker (`eyJ… ↩`) and after a start marker (`➥ …`).
const MARKER_BLANKS: usize = 2;

/// A gap between two pieces of one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Sep {
    /// Where the next piece starts.
    pub next: usize,
    /// Where the line holding the next piece starts (after the line break or the CR).
    pub line_start: usize,
    /// Something other than the line widths says the line goes on: a marker, readline.
    pub marked: bool,
    /// Readline wrote the next piece's first character twice, around a bare CR.
    pub dedupe: bool,
}

/// False when [`at`] certainly finds no gap at `e`: a compare or two on the hot path, where
/// nearly every token (and look-alike) ends at some other byte.
#[inline]
pub(super) fn may_start(data: &[u8], e: usize) -> bool {
    match data.get(e) {
        Some(b'\n' | b'\r' | b'\\' | 0x1b | 0xe2) => true,
        // A blank only before readline's CR or a book's end marker.
        Some(b' ' | b'\t') => matches!(data.get(e + 1), Some(b'\r' | b' ' | 0xe2)),
        _ => false,
    }
}

/// The gap that starts at `e` (the end of a piece), if it is one a wrap leaves.
///
/// Readline, echoing a command longer than the terminal is wide, ends each full row with a
/// space and a CR (`xyz \rabc`: the space makes the terminal wrap, the CR returns to the new
/// row's start) or, when the characters arrive faster than it redraws, with the next
/// character, a CR and that character again (`xyzA\rAbc`); observed with bash 5.2 under
/// `script(1)`. A shell continues a word after `\` at the line's end; books mark wrapped lines
/// with `↩`/`⏎`/`↵` at the end or `➥`/`↪` at the start of the next. Anything else is a plain
/// line break, which only the line widths or an incomplete token can justify joining.
#[inline]
pub(super) fn at(data: &[u8], e: usize) -> Option<Sep> {
    // The common case first: a plain line feed, the next line starting with token text.
    if data.get(e) == Some(&b'\n') && data.get(e + 1).is_some_and(|&b| super::is_token_char(b)) {
        return Some(Sep {
            next: e + 1,
            line_start: e + 1,
            marked: false,
            dedupe: false,
        });
    }
    at_any(data, e)
}

/// [`at`] for every gap but a plain line feed before token text.
#[inline(never)]
fn at_any(data: &[u8], e: usize) -> Option<Sep> {
    let limit = (e + MAX_GAP).min(data.len());
    let byte = |i: usize| (i < limit).then(|| data[i]);
    let mut i = skip_escapes(data, e, limit);
    // Readline's redraw at the right margin: no line feed follows its CR.
    if byte(i) == Some(b' ') && byte(i + 1) == Some(b'\r') && byte(i + 2) != Some(b'\n') {
        let next = skip_escapes(data, i + 2, limit);
        return (next < limit).then_some(Sep {
            next,
            line_start: i + 2,
            marked: true,
            dedupe: false,
        });
    }
    if byte(i) == Some(b'\r') && byte(i + 1) != Some(b'\n') {
        let next = skip_escapes(data, i + 1, limit);
        return (next < limit).then_some(Sep {
            next,
            line_start: i + 1,
            marked: true,
            dedupe: true,
        });
    }
    let mut marked = false;
    if byte(i) == Some(b'\\') {
        // A shell continuation: the backslash right after the word, no blank between.
        i += 1;
        marked = true;
    } else {
        let j = skip_blanks(data, i, (i + MARKER_BLANKS).min(limit));
        if let Some(n) = marker_at(data, j, limit, &END_MARKERS) {
            i = j + n;
            marked = true;
        }
    }
    i = skip_escapes(data, i, limit);
    i += match (byte(i), byte(i + 1)) {
        (Some(b'\n'), _) => 1,
        (Some(b'\r'), Some(b'\n')) => 2,
        _ => return None,
    };
    let line_start = i;
    i = skip_escapes(data, i, limit);
    i = skip_blanks(data, i, limit);
    if let Some(n) = marker_at(data, i, limit, &START_MARKERS) {
        marked = true;
        i = skip_blanks(data, i + n, (i + n + MARKER_BLANKS).min(limit));
    }
    (i < limit).then_some(Sep {
        next: i,
        line_start,
        marked,
        dedupe: false,
    })
}

/// True when the text at `e` may follow the last piece of a token: the end of the data, a
/// blank or line break, a closing quote or bracket, a separator of a command line or a list,
/// an escape sequence, or another wrap. Not `:` or `=` (`\nkind: Secret`, `\nTOKEN=x` are
/// the next line's key, not the token's tail), not `/`, `+`, `%` (other encodings).
#[inline]
pub(super) fn may_follow(data: &[u8], e: usize) -> bool {
    let Some(&b) = data.get(e) else {
        return true;
    };
    matches!(
        b,
        b' ' | b'\t'
            | b'\r'
            | b'\n'
            | b'"'
            | b'\''
            | b'`'
            | b','
            | b';'
            | b')'
            | b']'
            | b'}'
            | b'>'
            | b'<'
            | b'&'
            | b'|'
            | b'\\'
            | 0x1b
    ) || (b == 0xe2 && marker_at(data, e, data.len(), &END_MARKERS).is_some())
}

/// The length of the marker of `markers` at `i`, if one is there.
fn marker_at(data: &[u8], i: usize, limit: usize, markers: &[&[u8]]) -> Option<usize> {
    let rest = &data[i.min(limit)..limit];
    markers
        .iter()
        .find(|m| rest.starts_with(m))
        .map(|m| m.len())
}

fn skip_blanks(data: &[u8], mut i: usize, limit: usize) -> usize {
    while i < limit && matches!(data[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// Skips terminal escape sequences at `i`: CSI (`ESC [ … final`, colours, cursor moves,
/// bracketed-paste mode) and two-byte ones (`ESC =`, `ESC >`, charset `ESC ( B`).
fn skip_escapes(data: &[u8], mut i: usize, limit: usize) -> usize {
    while i + 1 < limit && data[i] == 0x1b {
        let mut j = i + 1;
        match data[j] {
            b'[' => {
                j += 1;
                while j < limit && (0x20..=0x3f).contains(&data[j]) {
                    j += 1;
                }
                if j >= limit || !(0x40..=0x7e).contains(&data[j]) {
                    return i;
                }
                j += 1;
            }
            b'(' | b')' => j += 2,
            0x30..=0x7e => j += 1,
            _ => return i,
        }
        if j > limit {
            return i;
        }
        i = j;
    }
    i
}

/// How many columns a terminal shows for `line` (no line break in it): a tab moves to the
/// next multiple of 8, a CR back to the start, escape sequences and UTF-8 continuation
/// bytes take none.
pub(super) fn width(line: &[u8]) -> usize {
    let mut col = 0usize;
    let mut i = 0usize;
    while i < line.len() {
        let b = line[i];
        if b == 0x1b {
            let j = skip_escapes(line, i, line.len());
            if j > i {
                i = j;
                continue;
            }
        }
        match b {
            b'\t' => col = (col / 8 + 1) * 8,
            b'\r' => col = 0,
            0x80..=0xbf => {}
            _ => col += 1,
        }
        i += 1;
    }
    col
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sep(text: &str) -> Option<Sep> {
        at(text.as_bytes(), 3)
    }

    #[test]
    fn line_breaks_and_markers() {
        // Plain LF and CRLF, with indentation.
        let s = sep("abc\n  def").unwrap();
        assert_eq!((s.next, s.line_start, s.marked), (6, 4, false));
        let s = sep("abc\r\ndef").unwrap();
        assert_eq!((s.next, s.line_start, s.marked), (5, 5, false));
        // Shell and book markers.
        assert_eq!(sep("abc\\\n    def").unwrap().next, 9);
        assert!(sep("abc\\\ndef").unwrap().marked);
        for m in ["\u{21a9}", " \u{23ce}", "\u{21b5}"] {
            let text = format!("abc{m}\ndef");
            let s = sep(&text).unwrap();
            assert!(s.marked, "{m}");
            assert_eq!(&text.as_bytes()[s.next..], b"def");
        }
        for m in ["\u{27a5}", "\u{21aa} "] {
            let text = format!("abc\n    {m}def");
            let s = sep(&text).unwrap();
            assert!(s.marked, "{m}");
            assert_eq!(&text.as_bytes()[s.next..], b"def");
        }
        // Escape sequences around the break.
        let s = sep("abc\x1b[0m\n\x1b[32mdef").unwrap();
        assert_eq!(s.next, 13);
        // Not gaps: a blank before a plain break, two breaks, a space, the data's end.
        assert_eq!(sep("abc \ndef"), None);
        assert_eq!(sep("abc \\\ndef"), None);
        assert_eq!(sep("abc\n\ndef").map(|s| s.next), Some(4));
        assert_eq!(sep("abc def"), None);
        assert_eq!(sep("abc\n"), None);
        assert_eq!(sep("abc\n      "), None);
    }

    #[test]
    fn readline_redraws() {
        let s = sep("abc \rdef").unwrap();
        assert_eq!((s.next, s.marked, s.dedupe), (5, true, false));
        let s = sep("abc\rcdef").unwrap();
        assert_eq!((s.next, s.marked, s.dedupe), (4, true, true));
        let s = sep("abc \r\x1b[Kdef").unwrap();
        assert_eq!(s.next, 8);
        // A space then CRLF is a line with a trailing blank, not readline.
        assert_eq!(sep("abc \r\ndef"), None);
    }

    #[test]
    fn gaps_are_bounded() {
        let far = format!("abc\n{}def", " ".repeat(MAX_GAP));
        assert_eq!(sep(&far), None);
    }

    #[test]
    fn what_may_follow_a_token() {
        for ok in [
            "",
            " get pods",
            "\n",
            "\r\n",
            "\"",
            "'",
            ",",
            ")",
            "\x1b[0m",
            "\u{21a9}",
        ] {
            let text = format!("abc{ok}");
            assert!(may_follow(text.as_bytes(), 3), "{ok:?}");
        }
        for no in [": bar", "=x", "/path", "+x", "%2F", "\u{2026}"] {
            let text = format!("abc{no}");
            assert!(!may_follow(text.as_bytes(), 3), "{no:?}");
        }
    }

    #[test]
    fn display_width() {
        assert_eq!(width(b"token:      abc"), 15);
        assert_eq!(width(b"a\tb"), 9);
        assert_eq!(width(b"\x1b[0;32mabc\x1b[0m"), 3);
        assert_eq!(width("\u{27a5} ab".as_bytes()), 4);
        assert_eq!(width(b"progress 10%\rabc"), 3);
    }
}
