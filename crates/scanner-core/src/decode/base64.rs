//! Lenient base64: either alphabet, padding optional, whitespace (line wrapping) skipped.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use super::Decoded;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// True for bytes of either base64 alphabet (padding excluded).
#[inline]
pub fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Decodes base64 text, ignoring whitespace and `=` padding, accepting both alphabets.
///
/// Returns `None` when fewer than 4 base64 characters are present or a character outside
/// both alphabets (and whitespace / padding) occurs. Trailing characters that do not fill a
/// whole byte are dropped, so a run with a little garbage at its end still decodes.
pub fn decode_base64(input: &[u8]) -> Option<Decoded> {
    let mut chars = Vec::with_capacity(input.len());
    let mut pos = Vec::with_capacity(input.len());
    for (i, &b) in input.iter().enumerate() {
        match b {
            b'-' => chars.push(b'+'),
            b'_' => chars.push(b'/'),
            b if is_base64_char(b) => chars.push(b),
            b'=' | b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        }
        pos.push(i as u32);
    }
    if chars.len() % 4 == 1 {
        chars.pop();
        pos.pop();
    }
    if chars.len() < 4 {
        return None;
    }
    let bytes = LENIENT.decode(&chars).ok()?;
    // Decoded byte i comes from base64 characters 4*(i/3) .. : map to the first of them that
    // carries its bits.
    let origin = (0..bytes.len()).map(|i| pos[(i / 3) * 4 + i % 3]).collect();
    Some(Decoded { bytes, origin })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn wrapped_lines_map_back_to_their_input_offsets() {
        let d = decode_base64(b"aGVs\n  bG8=").unwrap();
        assert_eq!(d.bytes, b"hello");
        // 'l' (index 3) is the first byte of the second group, which starts at offset 7.
        assert_eq!(d.map(3), 7);
        assert_eq!(d.map(0), 0);
    }

    #[test]
    fn rejects_foreign_characters() {
        assert!(decode_base64(b"abc!defg").is_none());
        assert!(decode_base64(b"ab").is_none());
    }
}
