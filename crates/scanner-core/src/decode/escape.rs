//! JSON string escapes and URL percent-encoding, with per-byte offset maps.

use super::Decoded;

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Undoes JSON string escapes (`\"`, `\\`, `\/`, `\n`, `\t`, `\r`, `\uXXXX` incl. surrogate
/// pairs). Invalid escapes are kept as they are: scanning goes on whatever the input.
pub fn unescape_json(input: &[u8]) -> Decoded {
    let mut out = Decoded {
        bytes: Vec::with_capacity(input.len()),
        origin: Vec::with_capacity(input.len()),
    };
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b != b'\\' || i + 1 >= input.len() {
            out.bytes.push(b);
            out.origin.push(i as u32);
            i += 1;
            continue;
        }
        let simple = match input[i + 1] {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            _ => None,
        };
        if let Some(c) = simple {
            out.bytes.push(c);
            out.origin.push(i as u32);
            i += 2;
            continue;
        }
        if input[i + 1] == b'u' {
            if let Some((ch, used)) = parse_unicode_escape(&input[i..]) {
                let mut buf = [0u8; 4];
                for &c in ch.encode_utf8(&mut buf).as_bytes() {
                    out.bytes.push(c);
                    out.origin.push(i as u32);
                }
                i += used;
                continue;
            }
        }
        out.bytes.push(b);
        out.origin.push(i as u32);
        i += 1;
    }
    out
}

fn parse_u16(s: &[u8]) -> Option<u16> {
    if s.len() < 6 || s[0] != b'\\' || s[1] != b'u' {
        return None;
    }
    s[2..6]
        .iter()
        .try_fold(0u16, |acc, &b| Some(acc * 16 + hex(b)? as u16))
}

fn parse_unicode_escape(s: &[u8]) -> Option<(char, usize)> {
    let hi = parse_u16(s)?;
    if (0xD800..0xDC00).contains(&hi) {
        let lo = parse_u16(&s[6..])?;
        let c = 0x10000 + (((hi as u32) - 0xD800) << 10) + ((lo as u32).wrapping_sub(0xDC00));
        return char::from_u32(c).map(|c| (c, 12));
    }
    char::from_u32(hi as u32).map(|c| (c, 6))
}

/// Undoes URL percent-encoding (`%2F` → `/`); `+` is left alone because base64 uses it.
pub fn unescape_percent(input: &[u8]) -> Decoded {
    let mut out = Decoded {
        bytes: Vec::with_capacity(input.len()),
        origin: Vec::with_capacity(input.len()),
    };
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' && i + 2 < input.len() {
            if let (Some(h), Some(l)) = (hex(input[i + 1]), hex(input[i + 2])) {
                out.bytes.push(h * 16 + l);
                out.origin.push(i as u32);
                i += 3;
                continue;
            }
        }
        out.bytes.push(input[i]);
        out.origin.push(i as u32);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes() {
        let d = unescape_json(br#"a\/b\u002Fc\nd\ud83d\ude00"#);
        assert_eq!(d.bytes, "a/b/c\nd😀".as_bytes());
        assert_eq!(d.map(2), 3); // 'b' after the two-byte escape
    }

    #[test]
    fn percent_escapes() {
        let d = unescape_percent(b"a%2Fb%3d%zz%");
        assert_eq!(d.bytes, b"a/b=%zz%");
        assert_eq!(d.map(2), 4);
    }
}
