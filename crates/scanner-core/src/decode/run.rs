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

/// Shortest base64 run worth decoding: nothing the rules find fits in less (the smallest
/// JWT the JWT rule accepts is 36 characters, 48 once base64-encoded). Skipping shorter runs
/// keeps a short base64 look-alike on every line from costing a decode each.
pub(crate) const MIN_RUN: usize = 40;

/// Bytes a run cut at [`MAX_RUN`] hands on to the next one: more than the base64 of the
/// longest JWT, so a credential the cut splits is found whole by the run after it.
pub(crate) const RUN_OVERLAP: usize = 64 * 1024;

/// A base64 run found by [`decode_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    /// Where the run starts and ends in the buffer.
    pub range: std::ops::Range<usize>,
    /// The run goes on past `range.end` and was cut at [`MAX_RUN`].
    pub cut: bool,
}

/// True when the byte before `i` belongs to a base64 run the backward walk could extend.
fn continues_before(data: &[u8], i: usize) -> bool {
    i > 0
        && (decode::is_base64_char(data[i - 1])
            || (data[i - 1] == b'/' && i >= 2 && data[i - 2] == b'\\'))
}

/// Steps back over one base64 character (or `\/`) before `i`, not before `floor`.
fn char_before(data: &[u8], i: usize, floor: usize) -> Option<usize> {
    if i <= floor {
        return None;
    }
    if decode::is_base64_char(data[i - 1]) {
        Some(i - 1)
    } else if data[i - 1] == b'/' && i >= floor + 2 && data[i - 2] == b'\\' {
        Some(i - 2)
    } else {
        None
    }
}

/// Where a run may start: the end of the previous run and, when that run was cut inside
/// the same base64 text, the phase (position in its group of four) of that byte.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Floor {
    /// No run starts before this offset.
    pub at: usize,
    /// Phase of the character at `at`, when known.
    pub phase: Option<u8>,
}

/// The maximal base64 run around `hit`, following wrapped lines (a line that holds only
/// base64 continues the run) and the escapes of [`escape_len`], at most [`MAX_RUN`] on each
/// side of the hit. It never reaches back before `floor` (the end of the previous run), so
/// every byte is walked back over at most once.
///
/// The run starts at a group boundary of the base64 text even when it cannot start at the
/// text's beginning (more than [`MAX_RUN`] back, or behind the floor or the buffer's start
/// when `open_start` says the buffer may begin inside a run): decoding from anywhere else
/// shifts every byte, and a credential deep in a long run would be lost at two of three
/// byte alignments. The boundary comes from counting characters back to the run's true
/// start, or else from the floor's known phase, or else from `phase`, where the prefilter
/// says the hit sits in its group.
pub(crate) fn decode_run(
    data: &[u8],
    hit: usize,
    floor: Floor,
    phase: usize,
    open_start: bool,
) -> Run {
    // Walk back MAX_RUN bytes counting characters, then on (to learn the phase) until the
    // run's start or the floor.
    let mut start = hit;
    let mut near = 0usize;
    while hit - start < MAX_RUN {
        match char_before(data, start, floor.at) {
            Some(i) => start = i,
            None => break,
        }
        near += 1;
    }
    let mut far = 0usize;
    let mut origin = start;
    while let Some(i) = char_before(data, origin, floor.at) {
        origin = i;
        far += 1;
    }
    // Stopped by a limit, not by the run's true start?
    let limited = continues_before(data, origin) || (origin == 0 && open_start);
    // Phase of the character at `start`.
    let at_start = if !limited {
        // The true start of the run: phase 0 there.
        far % 4
    } else if let (true, Some(p)) = (origin == floor.at, floor.phase) {
        (p as usize + far) % 4
    } else {
        (phase % 4 + 4 * MAX_RUN - near) % 4
    };
    let mut skip = (4 - at_start) % 4;
    while skip > 0 && start < hit {
        start += if data[start] == b'\\' { 2 } else { 1 };
        skip -= 1;
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
        if (b == b'\n' || b == b'\r') && end - start >= 40 {
            let mut j = end;
            while j < limit && matches!(data[j], b'\n' | b'\r' | b' ' | b'\t') {
                j += 1;
            }
            let line_end = memchr::memchr(b'\n', &data[j..limit]).map_or(limit, |p| j + p);
            let line = data[j..line_end]
                .strip_suffix(b"\r")
                .unwrap_or(&data[j..line_end]);
            if end - start >= 40
                && !line.is_empty()
                && line.iter().all(|&c| decode::is_base64_char(c) || c == b'=')
            {
                end = j;
                continue;
            }
        }
        break;
    }
    // Stopped by the limit, not by the run's end (which may lie exactly there: harmless).
    let cut = end >= hit + MAX_RUN && end < data.len();
    Run {
        range: start..end,
        cut,
    }
}

/// The phase at `pos` of a run that starts at a group boundary at `start` (characters in
/// between, escapes counted as one, padding and whitespace as none, modulo 4).
pub(crate) fn phase_at(data: &[u8], start: usize, pos: usize) -> u8 {
    let mut n = 0usize;
    let mut i = start;
    while i < pos {
        let b = data[i];
        if decode::is_base64_char(b) {
            n += 1;
            i += 1;
            continue;
        }
        let e = escape_len(data, i);
        if e > 0 {
            // `%3D` is padding, every other escape one character.
            n +=
                usize::from(!data[i + 1..].starts_with(b"3D") && !data[i + 1..].starts_with(b"3d"));
            i += e;
        } else {
            i += 1;
        }
    }
    (n % 4) as u8
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
        let r = decode_run(text, hit, Floor::default(), 0, false).range;
        assert_eq!(&text[r.start..r.start + 4], b"QUFB");
        assert!(text[r.clone()].ends_with(b"QkJC"));
    }

    fn floor(at: usize, phase: Option<u8>) -> Floor {
        Floor { at, phase }
    }

    #[test]
    fn a_run_that_cannot_start_at_its_beginning_starts_at_a_group_boundary() {
        // Stopped by the run's true start (a space): it starts there whatever the hit says.
        let text = b"x QUFBQUFBQUFBQkJC";
        assert_eq!(
            decode_run(text, 12, floor(0, None), 1, false).range.start,
            2
        );
        // A floor of unknown phase 3 characters in: the hit's phase 2 (10 characters after
        // a boundary) puts the boundary at 4.
        let text = b"QUFBQUFBQUFBQkJC";
        assert_eq!(
            decode_run(text, 10, floor(3, None), 2, false).range.start,
            4
        );
        // A floor whose phase is known wins over the hit's phase.
        assert_eq!(
            decode_run(text, 10, floor(3, Some(3)), 2, false)
                .range
                .start,
            4
        );
        assert_eq!(
            decode_run(text, 10, floor(3, Some(1)), 2, false)
                .range
                .start,
            6
        );
        // A buffer that may start inside a run (a later chunk) counts as a limit.
        assert_eq!(
            decode_run(b"QUFBQUFB", 5, floor(0, None), 1, true)
                .range
                .start,
            0
        );
        assert_eq!(
            decode_run(b"QUFBQUFB", 5, floor(0, None), 0, true)
                .range
                .start,
            1
        );
        assert_eq!(
            decode_run(b"QUFBQUFB", 5, floor(0, None), 0, false)
                .range
                .start,
            0
        );
        assert_eq!(phase_at(b"QU\\/BQ%2FB", 0, 10), 3);
    }

    #[test]
    fn json_string_bounds() {
        let text = br#"{"a": "x\"y\nusers:\n", "b": 1}"#;
        let r = enclosing_json_string(text, 12, 0).unwrap();
        assert_eq!(&text[r], br#"x\"y\nusers:\n"#);
    }
}
