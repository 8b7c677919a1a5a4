//! Finding the extent of encoded text around a keyword hit: a base64 run (wrapped lines and
//! JSON / percent escapes included) or the JSON string literal that holds a hit, and
//! decoding a run with every step recorded.

use super::{Decoded, Step};
use crate::decode;

/// Longest encoded run the scanner decodes at once.
pub(crate) const MAX_RUN: usize = 1024 * 1024;

/// Shifts a decoded map so it refers to offsets of the enclosing buffer.
pub(crate) fn shift(d: &mut Decoded, by: usize) {
    for o in &mut d.origin {
        *o += by as u32;
    }
}

/// Escapes that may sit inside an encoded base64 run: JSON `\/`, `\u002F`/`\u002B`, and
/// percent `%2F`, `%2B`, `%3D`.
fn escape_len(data: &[u8], i: usize) -> usize {
    let rest = &data[i..];
    if rest.starts_with(b"\\/") {
        2
    } else if rest.len() >= 6
        && rest.starts_with(b"\\u002")
        && matches!(rest[5], b'F' | b'f' | b'B' | b'b' | b'D' | b'd')
    {
        6
    } else if rest.len() >= 3
        && rest[0] == b'%'
        && matches!(
            (rest[1], rest[2].to_ascii_uppercase()),
            (b'2', b'F') | (b'2', b'B') | (b'3', b'D')
        )
    {
        3
    } else {
        0
    }
}

/// The maximal base64 run around `hit`, following wrapped lines (a line that holds only
/// base64 continues the run) and the escapes of [`escape_len`]. It never reaches back
/// before `floor` (the end of the previous run), so every byte is walked at most twice.
pub(crate) fn decode_run(data: &[u8], hit: usize, floor: usize) -> std::ops::Range<usize> {
    let mut start = hit;
    while start > floor && hit - start < MAX_RUN {
        let b = data[start - 1];
        if decode::is_base64_char(b) {
            start -= 1;
        } else if b == b'/' && start >= floor + 2 && data[start - 2] == b'\\' {
            start -= 2;
        } else {
            break;
        }
    }
    let mut end = hit;
    let limit = (hit + MAX_RUN).min(data.len());
    while end < limit {
        let b = data[end];
        if decode::is_base64_char(b) || b == b'=' {
            end += 1;
            continue;
        }
        let e = escape_len(data, end);
        if e > 0 {
            end += e;
            continue;
        }
        // A line break followed by indentation and a line of nothing but base64 continues
        // the run (YAML block scalars, `base64` wrapping at 76 columns).
        if b == b'\n' || b == b'\r' {
            let mut j = end;
            while j < limit && matches!(data[j], b'\n' | b'\r' | b' ' | b'\t') {
                j += 1;
            }
            let line_end = memchr::memchr(b'\n', &data[j..limit]).map_or(limit, |p| j + p);
            let line = data[j..line_end]
                .strip_suffix(b"\r")
                .unwrap_or(&data[j..line_end]);
            if !line.is_empty()
                && line.iter().all(|&c| decode::is_base64_char(c) || c == b'=')
                && end - start >= 40
            {
                end = j;
                continue;
            }
        }
        break;
    }
    start..end
}

/// Decodes a run found by [`decode_run`]; returns the base64 output and, when the run held
/// escapes, the unescaped intermediate with its step.
pub(crate) fn decode_encoded_run(
    run: &[u8],
    at: usize,
) -> Option<(Decoded, Option<(Decoded, Step)>)> {
    let has_json = memchr::memchr(b'\\', run).is_some();
    let has_pct = memchr::memchr(b'%', run).is_some();
    if !has_json && !has_pct {
        let mut d = decode::decode_base64(run)?;
        shift(&mut d, at);
        return Some((d, None));
    }
    let (mut mid, step) = if has_json {
        (decode::unescape_json(run), Step::JsonEscape)
    } else {
        (decode::unescape_percent(run), Step::Percent)
    };
    shift(&mut mid, at);
    let d = decode::decode_base64(&mid.bytes)?;
    Some((d, Some((mid, step))))
}

/// The JSON string literal (contents, without quotes) that contains `pos`, if any: found by
/// walking back (not before `floor`) to an unescaped `"` and forward to the next one.
pub(crate) fn enclosing_json_string(
    data: &[u8],
    pos: usize,
    floor: usize,
) -> Option<std::ops::Range<usize>> {
    let lo = pos.saturating_sub(MAX_RUN).max(floor);
    let mut i = pos;
    let start = loop {
        if i <= lo {
            return None;
        }
        i -= 1;
        match data[i] {
            b'"' if !escaped(data, i) => break i + 1,
            b'\n' => return None,
            _ => {}
        }
    };
    let hi = (pos + MAX_RUN).min(data.len());
    let mut j = pos;
    while j < hi {
        match data[j] {
            b'"' if !escaped(data, j) => return Some(start..j),
            b'\n' => return None,
            _ => j += 1,
        }
    }
    None
}

/// True when the byte at `i` is preceded by an odd number of backslashes.
fn escaped(data: &[u8], i: usize) -> bool {
    data[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_run_follows_wrapped_lines_but_not_yaml_keys() {
        let text =
            b"token: >-\n  QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n  QkJC\nkind: Secret\n";
        let hit = 12;
        let r = decode_run(text, hit, 0);
        assert_eq!(&text[r.start..r.start + 4], b"QUFB");
        assert!(text[r.clone()].ends_with(b"QkJC"));
    }

    #[test]
    fn json_string_bounds() {
        let text = br#"{"a": "x\"y\nusers:\n", "b": 1}"#;
        let r = enclosing_json_string(text, 12, 0).unwrap();
        assert_eq!(&text[r], br#"x\"y\nusers:\n"#);
    }
}
