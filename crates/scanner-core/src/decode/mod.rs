//! Decoders that reveal credentials hidden inside encodings: base64 (standard and url-safe,
//! padded or not, wrapped), JSON string escapes and URL percent-encoding.
//!
//! Each decoder returns the decoded bytes together with, for every decoded byte, the offset
//! of the input byte it came from, so a finding in decoded text is reported at the encoded
//! text's place in the original input.

mod base64;
mod escape;
pub(crate) mod run;
pub(crate) mod runs;

pub use self::base64::{decode_base64, is_base64_char};
pub use escape::{unescape_json, unescape_percent};

/// Decoded bytes plus, per decoded byte, the offset in the input it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decoded {
    /// The decoded bytes.
    pub bytes: Vec<u8>,
    /// `origin[i]` is the input offset that produced `bytes[i]`.
    pub origin: Vec<u32>,
}

impl Decoded {
    /// Maps a decoded offset (may be one past the end) back to an input offset.
    pub fn map(&self, i: usize) -> usize {
        match self.origin.get(i) {
            Some(&o) => o as usize,
            None => self.origin.last().map_or(0, |&o| o as usize + 1),
        }
    }
}

/// Name of a decoding step as recorded in a finding's `decoded_from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// base64, standard or url-safe alphabet.
    Base64,
    /// JSON string escapes (`\/`, `\u002F`, `\n` ...).
    JsonEscape,
    /// URL percent-encoding.
    Percent,
}

impl Step {
    /// The name used in `decoded_from`.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Base64 => "base64",
            Step::JsonEscape => "json_escape",
            Step::Percent => "percent",
        }
    }
}
