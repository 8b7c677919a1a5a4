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

/// Credentials under an encoding: reported with the rule of what they decode to. Not a rule
/// family of its own, but its contexts are checked with the others'.
pub(crate) const DETECTOR: crate::rules::detector::Detector = {
    use crate::rules::detector::{Detector, Example, Expect};
    use crate::rules::{K8S_SA_TOKEN_LEGACY, KUBECONFIG_TOKEN};
    Detector {
        name: "decode",
        rules: &[],
        keywords: &["ZXlK", "WlhsS", "V5S", "leU", "YXBpVmVy", "\\nusers:\\n", "\\ndata:\\n"],
        examples: &[
            Example {
                // `kubectl get secret -o yaml`: the token is base64 in `data`.
                path: "backup/secrets.yaml",
                text: "apiVersion: v1\ndata:\n  ca.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=\n  namespace: Y2k=\n  token: {{b64:legacy-jwt}}\nkind: Secret\nmetadata:\n  annotations:\n    kubernetes.io/service-account.name: deployer\n  name: deployer-token-m4n8z\n  namespace: ci\ntype: kubernetes.io/service-account-token\n",
                expect: &[Expect { rule: K8S_SA_TOKEN_LEGACY, line: 5, secret: "{{legacy-jwt}}" }],
            },
            Example {
                // A kubeconfig in a JSON string (Terraform state, an API response).
                path: "terraform.tfstate",
                text: "{\"outputs\":{\"kubeconfig\":{\"value\":\"apiVersion: v1\\nkind: Config\\nusers:\\n- name: ci\\n  user:\\n    token: {{opaque-token}}\\n\",\"type\":\"string\"}}}\n",
                expect: &[Expect { rule: KUBECONFIG_TOKEN, line: 1, secret: "{{opaque-token}}" }],
            },
            Example {
                // A truncated token under base64, and base64 of ordinary settings.
                path: "backup/secrets.yaml",
                text: "apiVersion: v1\ndata:\n  token: ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklpSjkuZXlKcGMzTWlPaUpyZFdKbGNtNWxkR1Z6TDNObGNuWnBZMlZoWTJOdmRXNTBJbjAuLi4=\n  LOG_LEVEL: aW5mbw==\nkind: Secret\n",
                expect: &[],
            },
        ],
    }
};
