//! Binary formats that are not worth searching raw, known by their magic number.
//!
//! Everything else with NUL bytes is searched like text: etcd's bbolt files, SQLite
//! databases (k3s' `state.db`), core dumps, heap dumps and `etcdctl -w protobuf` output hold
//! Secrets in the clear. What is left out here is of two sorts:
//!
//! * media (images, audio, video, web fonts): their payload is pixels, samples or
//!   compressed glyphs, and a credential in their metadata is not where anyone puts one.
//!   Skipped on purpose, like special files in a tree.
//! * data compressed with a method leakscan does not open (xz, bzip2, zstd, lz4, 7z, rar):
//!   a credential in it is not visible in the raw bytes, but it may well be inside (a
//!   `backup.tar.zst`), so it is reported like an archive member with such a method:
//!   `unsupported-compression`, which leaves the scan incomplete.
//!
//! Deliberately not here: PDF (objects, XMP metadata and form fields are often stored
//! uncompressed, and the file is cheap to search), BMP, ICO and TrueType fonts (two- or
//! four-byte magic numbers with zeros that other binary data starts with too).
//! A magic number is only believed when the head also holds a NUL byte: a text file that
//! happens to start with `GIF89a` or `OggS` is still text and searched.

use crate::problem::Problem;

/// A binary format that is not searched, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Opaque {
    /// The format's usual name, for the message (`PNG image`, `xz`).
    pub name: &'static str,
    /// Media, or compressed data leakscan cannot open.
    pub compressed: bool,
}

impl Opaque {
    /// The problem kind an input of this format is reported with.
    pub(crate) fn problem(self) -> Problem {
        if self.compressed {
            Problem::UnsupportedCompression
        } else {
            Problem::Media
        }
    }

    /// The message an input of this format is reported with.
    pub(crate) fn message(self) -> String {
        if self.compressed {
            format!(
                "{}-compressed data: leakscan does not decompress {}, not scanned",
                self.name, self.name
            )
        } else {
            format!("{} (holds no text credentials), not scanned", self.name)
        }
    }
}

const fn media(name: &'static str) -> Opaque {
    Opaque {
        name,
        compressed: false,
    }
}

const fn packed(name: &'static str) -> Opaque {
    Opaque {
        name,
        compressed: true,
    }
}

/// Magic numbers at offset 0. Each is at least four bytes, or three with a byte that never
/// starts text (`FF D8 FF`), so other binary data is practically never taken for them.
const AT_START: &[(&[u8], Opaque)] = &[
    (b"\x89PNG\r\n\x1a\n", media("PNG image")),
    (b"\xff\xd8\xff", media("JPEG image")),
    (b"GIF87a", media("GIF image")),
    (b"GIF89a", media("GIF image")),
    (b"II*\0", media("TIFF image")),
    (b"MM\0*", media("TIFF image")),
    (b"\x1a\x45\xdf\xa3", media("Matroska/WebM video")),
    (b"OggS\0", media("Ogg audio/video")),
    (b"fLaC", media("FLAC audio")),
    (b"wOFF", media("WOFF font")),
    (b"wOF2", media("WOFF2 font")),
    (b"\xfd7zXZ\0", packed("xz")),
    (b"\x28\xb5\x2f\xfd", packed("zstd")),
    (b"\x04\x22\x4d\x18", packed("lz4")),
    (b"7z\xbc\xaf\x27\x1c", packed("7z")),
    (b"Rar!\x1a\x07\x00", packed("rar")),
    (b"Rar!\x1a\x07\x01\x00", packed("rar")),
    (b"LZIP", packed("lzip")),
];

/// The format `head` (an input's first bytes) is in, when it is one not worth searching.
pub(crate) fn identify(head: &[u8]) -> Option<Opaque> {
    // A magic number without a NUL byte in the head is text that starts oddly.
    memchr::memchr(0, head)?;
    if let Some((_, f)) = AT_START.iter().find(|(m, _)| head.starts_with(m)) {
        return Some(*f);
    }
    // bzip2: "BZh", the block size digit, then the block magic (BCD pi) or, for an empty
    // stream, the end-of-stream magic (BCD sqrt(pi)).
    if head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..10] == *b"\x31\x41\x59\x26\x53\x59"
            || head[4..10] == *b"\x17\x72\x45\x38\x50\x90")
    {
        return Some(packed("bzip2"));
    }
    // ISO base media (MP4, MOV, M4A, HEIC, AVIF, 3GP): a box size, then `ftyp` and a brand
    // of four printable characters.
    if head.len() >= 12
        && &head[4..8] == b"ftyp"
        && head[8..12].iter().all(|b| (0x20..0x7f).contains(b))
    {
        return Some(media("MP4/QuickTime media"));
    }
    // RIFF: the form type names the format.
    if head.len() >= 12 && head.starts_with(b"RIFF") {
        match &head[8..12] {
            b"WEBP" => return Some(media("WebP image")),
            b"WAVE" => return Some(media("WAV audio")),
            b"AVI " => return Some(media("AVI video")),
            _ => {}
        }
    }
    // MP3 with an ID3v2 tag: version 2 to 4, revision 0.
    if head.len() >= 10 && head.starts_with(b"ID3") && (2..=4).contains(&head[3]) && head[4] == 0 {
        return Some(media("MP3 audio"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_formats() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0";
        assert_eq!(identify(png), Some(media("PNG image")));
        let jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01";
        assert_eq!(identify(jpeg).map(|f| f.name), Some("JPEG image"));
        let mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41";
        assert_eq!(identify(mp4).map(|f| f.name), Some("MP4/QuickTime media"));
        let xz = b"\xfd7zXZ\0\0\x04\xe6\xd6\xb4\x46";
        assert_eq!(
            identify(xz).map(Opaque::problem),
            Some(Problem::UnsupportedCompression)
        );
        let bz = b"BZh91AY&SY\x8a\0\0\0";
        assert_eq!(identify(bz).map(|f| f.name), Some("bzip2"));
        let webp = b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0";
        assert_eq!(identify(webp).map(|f| f.name), Some("WebP image"));
        let wav = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0";
        assert_eq!(identify(wav).map(|f| f.name), Some("WAV audio"));
        let mp3 = b"ID3\x04\0\0\0\0\x10\x7f";
        assert_eq!(identify(mp3).map(Opaque::problem), Some(Problem::Media));
    }

    #[test]
    fn text_and_other_binaries_are_searched() {
        // A text file that starts like a GIF, and one like an Ogg page but without its NUL.
        assert_eq!(identify(b"GIF89a is the format of this note\n"), None);
        assert_eq!(identify(b"OggS token: abc\n"), None);
        // Other RIFF forms, ELF files, SQLite databases and etcd values are searched.
        assert_eq!(identify(b"RIFF\x24\0\0\0ACONanih\x10\0\0\0"), None);
        assert_eq!(identify(b"\x7fELF\x02\x01\x01\0\0\0\0\0"), None);
        assert_eq!(identify(b"SQLite format 3\0\x10\0\x01\x01"), None);
        assert_eq!(identify(b"k8s\0\n\x0c\n\x02v1\x12\x06Secret"), None);
        assert_eq!(identify(b"BZh9 not really\0"), None);
    }
}
