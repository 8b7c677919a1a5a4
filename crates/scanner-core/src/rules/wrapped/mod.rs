//! JWTs split across lines, reassembled: a terminal's hard wrap (a pasted `kubectl describe
//! secret`, `fold -w 64`, a CI log copied from a terminal), readline's wrap of a long command
//! in a `script(1)` typescript, and the continuation markers of shells, books and blogs.
//!
//! The structure check decides. A following line is joined only when the token so far is
//! structurally incomplete (a segment missing, the signature too short for its `alg`), when
//! a marker or readline says the line goes on, or when the line widths show a hard wrap (the
//! broken line as wide as the full lines before it). The reassembly is then taken only if the
//! joined token passes a stricter check than a one-line token (canonical base64 signature,
//! a whole RSA modulus), so text after a token that merely looks like base64 is never glued
//! to it. Bounded: at most [`MAX_PIECES`] lines, [`MAX_JOINED`] bytes of token and
//! [`separator::MAX_GAP`] bytes between two pieces.

mod separator;

use serde_json::{Map, Value};

use crate::rules::jwt::{self, Jwt};

/// Most lines one token is reassembled from: a 1.5 KB service-account token wrapped at 64
/// columns takes 25, an OIDC token with many groups at 80 columns about 50.
pub(crate) const MAX_PIECES: usize = 64;
/// Longest reassembled token; longer ones are found only on one line.
pub(crate) const MAX_JOINED: usize = 8 * 1024;
/// Longest header taken for one still going on: real ones are under 200 bytes.
const MAX_HEADER: usize = 2 * 1024;
/// How far back the first line's start is looked for, to know its width.
const MAX_PREFIX: usize = 1024;

/// A JWT found at a hit.
#[derive(Debug)]
pub(crate) struct Found {
    /// The structure-checked token.
    pub jwt: Jwt,
    /// Where its last piece ends in the buffer.
    pub end: usize,
    /// The reassembled token when it spans lines; `None` when the buffer holds it whole.
    pub joined: Option<String>,
}

/// The JWT starting at `start` (which holds `eyJ`): on one line as [`jwt::parse`] finds it,
/// or reassembled from the lines a wrap split it into.
#[inline(always)]
pub(crate) fn token(data: &[u8], start: usize) -> Option<Found> {
    // Most `eyJ` hits are base64 JSON with no dot after it: `jwt::parse` rejects those at the
    // end of its first scan, which this scan repeats (over the same window) and then goes on
    // from, so the common case costs no more than before.
    let hi = data.len().min(start + jwt::MAX_JWT);
    let first = data[start..hi]
        .iter()
        .position(|&b| CHAR[b as usize] != B64URL)
        .map_or(hi, |p| start + p);
    let one = if data.get(first) == Some(&b'.') {
        // A payload starts with `eyJ` (or the line breaks inside those three): any other
        // text after the dot (`eyJhbGciOi...`, `eyJ….truncated`) is no JWT, whole or wrapped.
        let after = &data[first + 1..data.len().min(first + 4)];
        let n = after.iter().take_while(|&&b| CHAR[b as usize] != 0).count();
        if after[..n] != b"eyJ"[..n] {
            return None;
        }
        jwt::parse(data, start)
    } else {
        None
    };
    let stop = match &one {
        Some(j) => start + j.len,
        None => run_end(data, first),
    };
    // Only a line break, a marker or an escape sequence sits in a wrap: any other byte after
    // the token (the common case) ends it where it ends. Most that reach a line's end (a
    // base64 blob, a cut-off sample, `eyJ` on every line) are followed by a line that cannot
    // go on with them. This much runs for every `eyJ`, so it is inlined into the JWT rule;
    // the joining is not.
    if separator::may_start(data, stop) && !next_line_is_a_token(data, stop) {
        if let Some(next) = step(data, stop, &data[start..stop], None) {
            if let Some(found) = join(data, start, stop, one.is_some(), next) {
                return Some(found);
            }
        }
    }
    one.map(|jwt| Found {
        end: start + jwt.len,
        jwt,
        joined: None,
    })
}

/// True when the line after the token text ending at `stop` starts with another token
/// (`eyJ` right after the line feed) and the text does not end with the dot a payload
/// follows: a list of tokens or look-alikes, one a line, never one wrapped token.
#[inline(always)]
fn next_line_is_a_token(data: &[u8], stop: usize) -> bool {
    data.get(stop..stop + 4) == Some(b"\neyJ".as_slice()) && data[stop - 1] != b'.'
}

/// One line's share of a token.
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: usize,
    end: usize,
    /// Where the line holding it starts (`None`: unknown, more than [`MAX_PREFIX`] back).
    line_start: Option<usize>,
}

/// How far a token read so far has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A segment is missing or the signature is too short for the `alg`: it must go on.
    Incomplete,
    /// Three segments that decode, a signature of a length that fits.
    Complete,
    /// Not (the start of) a JWT, or a signature too long for its `alg`.
    Broken,
}

/// A step from one piece to the next: the gap, the next piece, the token's dots with it.
type Step = (separator::Sep, Span, usize);

/// Joins the pieces that follow the first one (`data[start..first_end]`, then `next`) while
/// each join is justified, then takes the longest reassembly the structure check accepts.
#[inline(never)]
fn join(data: &[u8], start: usize, first_end: usize, complete: bool, next: Step) -> Option<Found> {
    let first = &data[start..first_end];
    let (sep, next, mut dots) = next;
    let mut shape = complete.then_some(Shape::Complete);
    if !sep.marked && *shape.get_or_insert_with(|| shape_of(first)) != Shape::Incomplete {
        return None;
    }
    let line_start = {
        let lo = start.saturating_sub(MAX_PREFIX);
        match memchr::memrchr(b'\n', &data[lo..start]) {
            Some(p) => Some(lo + p + 1),
            None => (lo == 0).then_some(0),
        }
    };
    let mut pieces = vec![Piece {
        start,
        end: first_end,
        line_start,
    }];
    let mut text = first.to_vec();
    let mut pending = Some((sep, next, dots));
    while let Some((sep, next, now_dots)) = pending.take() {
        if !sep.marked && pieces.len() > 1 {
            let now = *shape.get_or_insert_with(|| shape_of(&text));
            if now == Shape::Broken || !widths_show_wrap(data, &pieces, now) {
                break;
            }
        }
        pieces.push(Piece {
            start: next.start,
            end: next.end,
            line_start: Some(sep.line_start),
        });
        text.extend_from_slice(&data[next.start..next.end]);
        dots = now_dots;
        shape = None;
        if pieces.len() < MAX_PIECES {
            pending = step(data, next.end, &text, Some(dots));
        }
    }
    longest_accepted(&text, &pieces)
}

/// The gap after a piece ending at `end`, the piece after it and the dots of the token with
/// it, when that piece can be the tail of `text` (the token so far, holding `dots` dots,
/// counted here when `None`): the next line holds nothing but the token's tail (not a word
/// followed by `:`), and not another token (a payload starts with `eyJ` only right after
/// the first dot).
#[inline(always)]
fn step(data: &[u8], end: usize, text: &[u8], dots: Option<usize>) -> Option<Step> {
    let sep = separator::at(data, end)?;
    let mut s = sep.next;
    if sep.dedupe && data.get(s) == Some(&data[end - 1]) {
        s += 1;
    }
    let payload_due = text.last() == Some(&b'.');
    let new_token = data.get(s..s + 3) == Some(b"eyJ".as_slice());
    if new_token && !payload_due {
        return None;
    }
    let e = run_end(data, s);
    if e == s || !separator::may_follow(data, e) {
        return None;
    }
    let dots = dots.unwrap_or_else(|| count_dots(text));
    let total = dots + count_dots(&data[s..e]);
    if total > 2 || (new_token && dots != 1) || text.len() + (e - s) > MAX_JOINED {
        return None;
    }
    Some((sep, Span { start: s, end: e }, total))
}

/// A range of the buffer.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

/// Whether a plain line break after the last of `pieces` is a wrap: after the first line
/// only when the token is incomplete; after a later one when that line is as wide as the one
/// before it or as the first (a terminal or `fold` wraps every line at one width, counting
/// what precedes the token on the first), or it is the second and the token incomplete
/// (split by hand after a prefix).
fn widths_show_wrap(data: &[u8], pieces: &[Piece], shape: Shape) -> bool {
    let incomplete = shape == Shape::Incomplete;
    let k = pieces.len();
    if k == 1 {
        return incomplete;
    }
    let width = |p: &Piece| p.line_start.map(|ls| separator::width(&data[ls..p.end]));
    let here = width(&pieces[k - 1]);
    here.is_some()
        && (here == width(&pieces[k - 2]) || here == width(&pieces[0]) || (k == 2 && incomplete))
}

/// The longest reassembly of two or more pieces that parses as a JWT reaching into its last
/// piece and passes [`strict`].
fn longest_accepted(text: &[u8], pieces: &[Piece]) -> Option<Found> {
    let mut ends = Vec::with_capacity(pieces.len());
    let mut len = 0;
    for p in pieces {
        len += p.end - p.start;
        ends.push(len);
    }
    for k in (1..pieces.len()).rev() {
        let joined = &text[..ends[k]];
        let Some(jwt) = jwt::parse(joined, 0) else {
            continue;
        };
        if jwt.len <= ends[k - 1] || !strict(joined, &jwt) {
            continue;
        }
        let end = pieces[k].start + (jwt.len - ends[k - 1]);
        let secret = String::from_utf8_lossy(&joined[..jwt.len]).into_owned();
        return Some(Found {
            jwt,
            end,
            joined: Some(secret),
        });
    }
    None
}

/// The check a reassembled token passes beyond [`jwt::parse`]: its signature is canonical
/// base64url (a possible length, zero bits past the last byte) and, for RSA, a whole number
/// of 64-bit words (every modulus in use: 1024, 2048, 3072, 4096 bits). A one-line token may
/// run into glued text; a joined one may not, or any base64-looking line would stick to it.
fn strict(joined: &[u8], jwt: &Jwt) -> bool {
    let token = &joined[..jwt.len];
    let Some(dot) = memchr::memrchr(b'.', token) else {
        return false;
    };
    let sig = &token[dot + 1..];
    let Some(&last) = sig.last() else {
        return false;
    };
    let unused = match sig.len() % 4 {
        1 => return false,
        2 => 0x0f,
        3 => 0x03,
        _ => 0,
    };
    if b64url_value(last) & unused != 0 {
        return false;
    }
    let Some(alg) = alg_of(&jwt.header) else {
        return false;
    };
    let n = sig.len() * 3 / 4;
    jwt::signature_fits(alg, n) && (!is_rsa(alg) || n.is_multiple_of(8))
}

/// How far the token text read so far has got (see [`Shape`]).
fn shape_of(text: &[u8]) -> Shape {
    let Some(d1) = memchr::memchr(b'.', text) else {
        return if text.len() > MAX_HEADER {
            Shape::Broken
        } else {
            Shape::Incomplete
        };
    };
    let Some(header) = jwt::decode_json_object(&text[..d1]) else {
        return Shape::Broken;
    };
    let alg = match alg_of(&header) {
        Some(a) if !a.eq_ignore_ascii_case("none") && !header.contains_key("enc") => a,
        _ => return Shape::Broken,
    };
    let rest = &text[d1 + 1..];
    if !b"eyJ".starts_with(&rest[..rest.len().min(3)]) {
        return Shape::Broken;
    }
    let Some(d2) = memchr::memchr(b'.', rest) else {
        return Shape::Incomplete;
    };
    if jwt::decode_json_object(&rest[..d2]).is_none() {
        return Shape::Broken;
    }
    let n = (rest.len() - d2 - 1) * 3 / 4;
    if n < min_signature(alg) {
        Shape::Incomplete
    } else if jwt::signature_fits(alg, n) {
        Shape::Complete
    } else {
        Shape::Broken
    }
}

/// The shortest signature [`jwt::signature_fits`] accepts for `alg` (kept in step with it by
/// a test): shorter means the signature goes on.
fn min_signature(alg: &str) -> usize {
    match alg {
        "ES256" | "HS512" | "EdDSA" | "ES256K" => 64,
        "ES384" => 96,
        "ES512" => 132,
        "HS256" => 32,
        "HS384" => 48,
        a if is_rsa(a) => 128,
        _ => 16,
    }
}

fn is_rsa(alg: &str) -> bool {
    alg.starts_with("RS") || alg.starts_with("PS")
}

fn alg_of(header: &Map<String, Value>) -> Option<&str> {
    header.get("alg")?.as_str()
}

/// The value of a base64url character (the caller knows it is one).
fn b64url_value(b: u8) -> u8 {
    match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'-' => 62,
        _ => 63,
    }
}

fn count_dots(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'.', bytes).count()
}

/// [`CHAR`] of a base64url character.
const B64URL: u8 = 1;
/// [`CHAR`] of `.`.
const DOT: u8 = 2;

/// What each byte is in a JWT: [`B64URL`], [`DOT`] or nothing (0).
static CHAR: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' {
            t[b] = B64URL;
        } else if c == b'.' {
            t[b] = DOT;
        }
        b += 1;
    }
    t
};

/// A character of a JWT: base64url or `.`.
#[inline]
fn is_token_char(b: u8) -> bool {
    CHAR[b as usize] != 0
}

/// The end of the token characters from `from`, at most [`MAX_JOINED`].
#[inline]
fn run_end(data: &[u8], from: usize) -> usize {
    let hi = data.len().min(from + MAX_JOINED);
    data[from..hi]
        .iter()
        .position(|&b| !is_token_char(b))
        .map_or(hi, |p| from + p)
}

#[cfg(test)]
mod tests;
