//! What an input is (archive, UTF-16 text, media or compressed data, other binary, text),
//! judged from its first bytes, and UTF-16 → UTF-8 transcoding for inputs too large to hold
//! in memory.

use std::io::{self, Read};

use encoding_rs::{CoderResult, Decoder, Encoding, UTF_16BE, UTF_16LE};

use crate::source::magic::{self, Opaque};

/// How many leading bytes decide what an input is (NUL → binary, magic numbers, BOMs).
pub(crate) const SNIFF_LEN: usize = 8 * 1024;

/// What the first bytes of an input say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A zip archive (local header or empty central directory).
    Zip,
    /// A gzip stream (`.gz`, `.tgz`).
    Gzip,
    /// A tar archive (ustar magic or a valid v7 header checksum).
    Tar,
    /// UTF-16 text: the encoding and the length of its BOM (0 when guessed without one).
    Utf16(&'static Encoding, usize),
    /// Media or compressed data not worth searching raw (see [`magic`]).
    Opaque(Opaque),
    /// Anything else with a NUL byte near the start: searched like text, found credentials
    /// are located by byte offset.
    Binary,
    /// Text (UTF-8, Latin-1, invalid UTF-8 alike: the scanner works on bytes).
    Text,
}

impl Kind {
    /// True for the kinds that are opened as archives.
    pub(crate) fn is_archive(self) -> bool {
        matches!(self, Kind::Zip | Kind::Gzip | Kind::Tar)
    }
}

/// Classifies an input by its first bytes (`head`, at most [`SNIFF_LEN`] are looked at).
pub(crate) fn sniff(head: &[u8]) -> Kind {
    let head = &head[..head.len().min(SNIFF_LEN)];
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Kind::Zip;
    }
    if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        return Kind::Gzip;
    }
    if is_tar_header(head) {
        return Kind::Tar;
    }
    if let Some((enc, bom)) = Encoding::for_bom(head) {
        if (enc == UTF_16LE || enc == UTF_16BE) && looks_utf16(enc, &head[bom..]) {
            return Kind::Utf16(enc, bom);
        }
    }
    if memchr::memchr(0, head).is_none() {
        return Kind::Text;
    }
    if let Some(f) = magic::identify(head) {
        return Kind::Opaque(f);
    }
    match guess_utf16(head) {
        Some(enc) => Kind::Utf16(enc, 0),
        None => Kind::Binary,
    }
}

/// A tar header block: `ustar` magic at 257, or (old v7 archives have none) a checksum that
/// adds up. Checking the checksum keeps random binaries from being taken for tar.
fn is_tar_header(h: &[u8]) -> bool {
    if h.len() < 512 {
        return false;
    }
    let magic = &h[257..262] == b"ustar";
    let field = &h[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    if digits.is_empty() {
        return false;
    }
    let stored = digits
        .iter()
        .fold(0u64, |acc, &d| acc.saturating_mul(8) + u64::from(d - b'0'));
    let sum: u64 = h[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    // A block of zeros sums to 256 with spaces in the checksum field; require a name too.
    sum == stored && h[0] != 0 && (magic || sum > 256)
}

/// Whether what follows a UTF-16 BOM is UTF-16. A BOM is two bytes anyone can put in front
/// of a file (`FF FE` + ASCII would hide every token in it if it were believed): UTF-16 of
/// Latin-script text has a zero high byte in most units, and UTF-16 of other scripts (no
/// zero bytes) is neither valid UTF-8 nor mostly printable ASCII bytes.
fn looks_utf16(enc: &'static Encoding, body: &[u8]) -> bool {
    let units = body.len() / 2;
    if units == 0 {
        return true;
    }
    let high = usize::from(enc == UTF_16LE);
    let zero_high = body.chunks_exact(2).filter(|u| u[high] == 0).count();
    if zero_high * 4 >= units {
        return true;
    }
    // UTF-8 text (an error only in a character cut off at the end of the window): UTF-16
    // of other scripts is practically never valid UTF-8.
    if std::str::from_utf8(body).map_or_else(|e| e.error_len().is_none(), |_| true) {
        return false;
    }
    let printable = body
        .iter()
        .filter(|&&b| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7e))
        .count();
    printable * 10 < body.len() * 9
}

/// UTF-16 without a BOM (some Windows tools write it): ASCII-range text leaves every other
/// byte NUL. Requires at least 90% of the pairs to look like that.
fn guess_utf16(head: &[u8]) -> Option<&'static Encoding> {
    let pairs = head.len() / 2;
    if pairs < 8 {
        return None;
    }
    let (mut le, mut be) = (0usize, 0usize);
    for p in head.chunks_exact(2) {
        if p[1] == 0 && p[0] != 0 {
            le += 1;
        } else if p[0] == 0 && p[1] != 0 {
            be += 1;
        }
    }
    if le * 10 >= pairs * 9 {
        Some(UTF_16LE)
    } else if be * 10 >= pairs * 9 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// The name recorded in `decoded_from` for a transcoded input.
pub(crate) fn step_name(enc: &'static Encoding) -> &'static str {
    if enc == UTF_16BE {
        "utf-16be"
    } else {
        "utf-16le"
    }
}

/// Transcodes a whole UTF-16 buffer (BOM already cut off) to UTF-8; invalid sequences
/// become U+FFFD so scanning goes on.
pub(crate) fn transcode(enc: &'static Encoding, data: &[u8]) -> Vec<u8> {
    let (text, _had_errors) = enc.decode_without_bom_handling(data);
    text.into_owned().into_bytes()
}

/// Streams UTF-16 (BOM already consumed) as UTF-8 in bounded memory.
pub(crate) struct Utf16Reader<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    in_start: usize,
    in_end: usize,
    eof: bool,
    done: bool,
    /// Output of a character that did not fit the caller's tiny buffer.
    pending: Vec<u8>,
}

impl<R: Read> Utf16Reader<R> {
    /// Wraps `inner`, which yields UTF-16 in `enc`.
    pub(crate) fn new(inner: R, enc: &'static Encoding) -> Self {
        Utf16Reader {
            inner,
            decoder: enc.new_decoder_without_bom_handling(),
            input: vec![0; 64 * 1024],
            in_start: 0,
            in_end: 0,
            eof: false,
            done: false,
            pending: Vec::new(),
        }
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if !self.pending.is_empty() {
            let take = self.pending.len().min(out.len());
            out[..take].copy_from_slice(&self.pending[..take]);
            self.pending.drain(..take);
            return Ok(take);
        }
        // decode_to_utf8 needs room for at least one whole character.
        if out.len() < 4 {
            let mut tmp = [0u8; 4];
            let n = self.read(&mut tmp)?;
            let take = n.min(out.len());
            out[..take].copy_from_slice(&tmp[..take]);
            self.pending.extend_from_slice(&tmp[take..n]);
            return Ok(take);
        }
        loop {
            if self.done {
                return Ok(0);
            }
            if self.in_start == self.in_end && !self.eof {
                match self.inner.read(&mut self.input) {
                    Ok(0) => self.eof = true,
                    Ok(n) => {
                        self.in_start = 0;
                        self.in_end = n;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
            let src = &self.input[self.in_start..self.in_end];
            let (res, read, written, _) = self.decoder.decode_to_utf8(src, out, self.eof);
            self.in_start += read;
            if self.eof && res == CoderResult::InputEmpty {
                self.done = true;
            }
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(sniff(b"PK\x03\x04rest"), Kind::Zip);
        assert_eq!(sniff(&[0x1f, 0x8b, 0x08, 0]), Kind::Gzip);
        assert_eq!(sniff(b"plain text\n"), Kind::Text);
        assert!(matches!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Kind::Opaque(_)
        ));
        assert_eq!(sniff(b"k8s\0\n\x0c\n\x02v1\x12\x06Secret"), Kind::Binary);
        assert_eq!(sniff(b"\xff\xfeh\0i\0"), Kind::Utf16(UTF_16LE, 2));
        assert_eq!(sniff(b"\xfe\xff\0h\0i"), Kind::Utf16(UTF_16BE, 2));
        let le: Vec<u8> = "token: abc\nmore text here\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(sniff(&le), Kind::Utf16(UTF_16LE, 0));
        let zeros = [0u8; 1024];
        assert_eq!(sniff(&zeros), Kind::Binary);
    }

    fn with_bom(bom: &[u8], text: &str, be: bool) -> Vec<u8> {
        let mut out = bom.to_vec();
        for u in text.encode_utf16() {
            out.extend(if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        out
    }

    #[test]
    fn a_bom_must_be_confirmed_by_what_follows() {
        let ascii = b"\xff\xfeusers:\n- name: ops\n  user:\n    token: 8d4f1c7a9e2b\n";
        assert_eq!(sniff(ascii), Kind::Text);
        assert_eq!(sniff(b"\xfe\xffapiVersion: v1\nkind: Config\n"), Kind::Text);
        assert_eq!(sniff("\u{feff}kind: Config\n".as_bytes()), Kind::Text);
        // UTF-8 after the bytes of a UTF-16 BOM is text too.
        assert_eq!(sniff(b"\xff\xfegr\xc3\xbc\xc3\x9fe: ok\n"), Kind::Text);
        // Real UTF-16: Latin text (zero high bytes) and CJK text (no zero byte at all).
        let latin = "users:\r\n- name: ops\r\n";
        assert_eq!(
            sniff(&with_bom(b"\xff\xfe", latin, false)),
            Kind::Utf16(UTF_16LE, 2)
        );
        assert_eq!(
            sniff(&with_bom(b"\xfe\xff", latin, true)),
            Kind::Utf16(UTF_16BE, 2)
        );
        let cjk = "設定ファイル運用担当者資格情報保存場所確認済".repeat(20);
        assert_eq!(
            sniff(&with_bom(b"\xff\xfe", &cjk, false)),
            Kind::Utf16(UTF_16LE, 2)
        );
        assert_eq!(
            sniff(&with_bom(b"\xfe\xff", &cjk, true)),
            Kind::Utf16(UTF_16BE, 2)
        );
        assert_eq!(sniff(b"\xff\xfe"), Kind::Utf16(UTF_16LE, 2));
    }

    #[test]
    fn streaming_transcoder_matches_whole_buffer() {
        let text = "héllo wörld 😀 ".repeat(20_000);
        let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let mut out = String::new();
        Utf16Reader::new(&le[..], UTF_16LE)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, text);
        assert_eq!(transcode(UTF_16LE, &le), text.as_bytes());
    }
}
