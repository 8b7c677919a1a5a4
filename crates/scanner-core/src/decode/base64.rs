//! Lenient base64: either alphabet, padding optional, whitespace (line wrapping) skipped.

use super::Decoded;

/// Marks bytes that are not base64 in [`VALUE`].
const INVALID: u8 = 0xff;
/// Marks bytes that are skipped: padding and the whitespace of wrapped lines.
const SKIP: u8 = 0xfe;

/// The 6-bit value of each base64 character of either alphabet, or [`INVALID`] / [`SKIP`].
static VALUE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t[b'=' as usize] = SKIP;
    t[b' ' as usize] = SKIP;
    t[b'\t' as usize] = SKIP;
    t[b'\r' as usize] = SKIP;
    t[b'\n' as usize] = SKIP;
    t
};

/// True for bytes of either base64 alphabet (padding excluded).
#[inline]
pub fn is_base64_char(b: u8) -> bool {
    VALUE[b as usize] < 64
}

/// Decodes base64 text, ignoring whitespace and `=` padding, accepting both alphabets.
///
/// Returns `None` when fewer than 4 base64 characters are present or a character outside
/// both alphabets (and whitespace / padding) occurs. Trailing characters that do not fill a
/// whole byte are dropped, so a run with a little garbage at its end still decodes.
pub fn decode_base64(input: &[u8]) -> Option<Decoded> {
    // One pass, no intermediate copy: this runs once per base64 run the prefilter points
    // at, so on hostile input (a short run on every line) its fixed cost is the scan's.
    let cap = input.len() / 4 * 3 + 2;
    let mut bytes = Vec::with_capacity(cap);
    let mut origin = Vec::with_capacity(cap);
    let mut acc = 0u32;
    let mut n = 0usize;
    let mut total = 0usize;
    // Offsets of the characters of the current group: decoded byte k of a group comes
    // from (and is reported at) character k of it.
    let mut at = [0u32; 4];
    for (i, &b) in input.iter().enumerate() {
        let v = VALUE[b as usize];
        if v >= 64 {
            if v == SKIP {
                continue;
            }
            return None;
        }
        acc = (acc << 6) | v as u32;
        at[n] = i as u32;
        n += 1;
        total += 1;
        if n == 4 {
            bytes.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            origin.extend_from_slice(&at[..3]);
            acc = 0;
            n = 0;
        }
    }
    if total - usize::from(n == 1) < 4 {
        return None;
    }
    match n {
        2 => {
            bytes.push((acc >> 4) as u8);
            origin.push(at[0]);
        }
        3 => {
            bytes.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]);
            origin.extend_from_slice(&at[..2]);
        }
        _ => {}
    }
    Some(Decoded { bytes, origin })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;

    #[test]
    fn decodes_both_alphabets_with_and_without_padding() {
        assert_eq!(decode_base64(b"aGVsbG8=").unwrap().bytes, b"hello");
        assert_eq!(decode_base64(b"aGVsbG8").unwrap().bytes, b"hello");
        assert_eq!(
            decode_base64(b"-_-_").unwrap().bytes,
            decode_base64(b"+/+/").unwrap().bytes
        );
    }

    #[test]
    fn agrees_with_the_base64_crate_on_every_length_and_alphabet() {
        let data: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        for len in 3..data.len() {
            let raw = &data[..len];
            assert_eq!(
                decode_base64(STANDARD.encode(raw).as_bytes())
                    .unwrap()
                    .bytes,
                raw
            );
            assert_eq!(
                decode_base64(URL_SAFE_NO_PAD.encode(raw).as_bytes())
                    .unwrap()
                    .bytes,
                raw
            );
        }
    }

    #[test]
    fn wrapped_lines_map_back_to_their_input_offsets() {
        let d = decode_base64(b"aGVs\n  bG8=").unwrap();
        assert_eq!(d.bytes, b"hello");
        // 'l' (index 3) is the first byte of the second group, which starts at offset 7.
        assert_eq!(d.map(3), 7);
        assert_eq!(d.map(0), 0);
        assert_eq!(d.map(4), 8);
    }

    #[test]
    fn rejects_foreign_characters() {
        assert!(decode_base64(b"abc!defg").is_none());
        assert!(decode_base64(b"ab").is_none());
        // Five characters: the fifth carries no whole byte and is dropped.
        assert_eq!(decode_base64(b"aGVsb").unwrap().bytes, b"hel");
    }
}
