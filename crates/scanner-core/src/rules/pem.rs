//! PEM private keys (`-----BEGIN … PRIVATE KEY-----` … `-----END … PRIVATE KEY-----`),
//! also with JSON `\n` escapes instead of line breaks.

use crate::candidate::Candidate;
use crate::decode::Step;
use crate::rules;
use crate::rules::detector::{Detector, Example, Expect};

/// Longest PEM block considered (an 8192-bit RSA key is about 6.4 KB).
const MAX_PEM: usize = 16 * 1024;

/// The private key block starting at `start` (which holds `-----BEGIN`), if well formed.
pub(crate) fn at(data: &[u8], start: usize) -> Option<Candidate> {
    let window = &data[start..data.len().min(start + MAX_PEM)];
    let after = &window[b"-----BEGIN ".len().min(window.len())..];
    let label_len = memchr::memmem::find(after, b"-----")?;
    let label = &after[..label_len];
    if label_len > 40 || !label.ends_with(b"PRIVATE KEY") {
        return None;
    }
    let body_start = b"-----BEGIN ".len() + label_len + 5;
    let mut end_marker = b"-----END ".to_vec();
    end_marker.extend_from_slice(label);
    end_marker.extend_from_slice(b"-----");
    let body_len = memchr::memmem::find(&window[body_start..], &end_marker)?;
    let body = &window[body_start..body_start + body_len];
    let mut b64 = 0usize;
    let mut escaped = false;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == b'\\' && matches!(body.get(i + 1), Some(b'n' | b'r')) {
            escaped = true;
            i += 2;
            continue;
        }
        if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' {
            b64 += 1;
        } else if !(b.is_ascii_whitespace() || b == b'=' || b == b':' || b == b',' || b == b'-') {
            // Anything else (quotes, markup, "..." placeholders) means this is not a key.
            return None;
        }
        i += 1;
    }
    // A placeholder like "-----BEGIN PRIVATE KEY-----\n...\n-----END" has no real body.
    if b64 < 64 {
        return None;
    }
    let end = start + body_start + body_len + end_marker.len();
    let secret = String::from_utf8_lossy(&data[start..end]).into_owned();
    let mut c = Candidate::new(rules::PRIVATE_KEY, start, end, secret);
    if escaped {
        c.steps.push(Step::JsonEscape);
    }
    Some(c)
}

/// Whether `text` holds a PEM private key block.
pub(crate) fn contains_private_key(text: &[u8]) -> bool {
    memchr::memmem::find_iter(text, b"-----BEGIN").any(|p| at(text, p).is_some())
}

/// Private keys in PEM, anywhere.
pub(crate) const DETECTOR: Detector = Detector {
    name: "pem",
    rules: &[rules::PRIVATE_KEY],
    keywords: &["-----BEGIN", "%2D%2D%2DBEGIN", "%2d%2d%2dBEGIN"],
    examples: &[
        Example {
            path: "deploy/keys/sa.key",
            text: "{{private-key}}\n",
            expect: &[Expect { rule: rules::PRIVATE_KEY, line: 1, secret: "{{private-key}}" }],
        },
        Example {
            path: "docs/tls.md",
            text: "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xpZW50IGNlcnRpZmljYXRlIGZvciBsZWFrc2NhbjAKBggqhkjOPQQDAjAVMRMwEQYDVQQDDAprdWJlcm5ldGVz\n-----END CERTIFICATE-----\n",
            expect: &[],
        },
    ],
};
