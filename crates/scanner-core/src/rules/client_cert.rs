//! The client certificate beside a kubeconfig user's `client-key-data`: the key is the
//! secret, but the certificate says whose it is (subject CN = user, O = groups), until when,
//! and which digest the audit log names it by.

use crate::decode;
use crate::rules::{self, value_after_key};

/// How far from the key the certificate may sit (kubectl writes it on the line before).
const WINDOW: usize = 32 * 1024;

/// The DER of the `client-certificate-data` in the same user entry as the key at `key_at`.
pub(crate) fn sibling(data: &[u8], key_at: usize) -> Option<Vec<u8>> {
    let (lo, hi) = entry_bounds(data, key_at);
    let needle = b"client-certificate-data";
    let at = memchr::memmem::find_iter(&data[lo..hi], needle)
        .map(|p| lo + p)
        // The nearest one, before or after.
        .min_by_key(|&p| p.abs_diff(key_at))?;
    let value = value_after_key(data, at + needle.len())?;
    let pem_text = decode::decode_base64(value.text.as_bytes())?.bytes;
    let block = pem::parse(&pem_text).ok()?;
    (block.tag() == "CERTIFICATE").then(|| block.into_contents())
}

/// The user entry around `at`: for YAML, from the list item (`- name:` / `- user:`) that
/// holds it to the next item at that indentation; for JSON, the enclosing object of `user`.
fn entry_bounds(data: &[u8], at: usize) -> (usize, usize) {
    let lo_limit = at.saturating_sub(WINDOW);
    let hi_limit = (at + WINDOW).min(data.len());
    let Some(line) = rules::line_start(data, at) else {
        return (at, at);
    };
    let indent = data[line..at].iter().take_while(|&&b| b == b' ').count();
    if data[line + indent..].starts_with(b"\"") || data[line..at].contains(&b'{') {
        return json_object(data, at, lo_limit, hi_limit);
    }
    // YAML: walk back to the list item (a line starting `- ` less indented than the key).
    let mut start = line;
    let mut item_indent = None;
    while start > lo_limit {
        let Some(prev) = rules::line_start(data, start - 1) else {
            break;
        };
        let ind = data[prev..].iter().take_while(|&&b| b == b' ').count();
        if ind < indent && data[prev + ind..].starts_with(b"- ") {
            item_indent = Some(ind);
            start = prev;
            break;
        }
        if ind < indent.saturating_sub(4) {
            break;
        }
        start = prev;
    }
    let item_indent = item_indent.unwrap_or(indent.saturating_sub(4));
    let mut end = rules::line_end(data, at);
    while end < hi_limit {
        let next = end + 1;
        let ind = data[next..].iter().take_while(|&&b| b == b' ').count();
        let rest = &data[next + ind..];
        if ind <= item_indent && !rest.starts_with(b"\n") {
            break;
        }
        end = rules::line_end(data, next);
    }
    (start, end.min(hi_limit))
}

/// The JSON object enclosing the `user` object that holds `at` (braces inside strings do not
/// occur in kubeconfig base64 or names worth caring about here).
fn json_object(data: &[u8], at: usize, lo: usize, hi: usize) -> (usize, usize) {
    let mut depth = 0i32;
    let mut start = lo;
    for i in (lo..at).rev() {
        match data[i] {
            b'}' => depth += 1,
            b'{' if depth == 0 => {
                start = i;
                break;
            }
            b'{' => depth -= 1,
            _ => {}
        }
    }
    let mut depth = 0i32;
    let mut end = hi;
    for (i, &b) in data.iter().enumerate().take(hi).skip(at) {
        match b {
            b'{' => depth += 1,
            b'}' if depth == 0 => {
                end = i + 1;
                break;
            }
            b'}' => depth -= 1,
            _ => {}
        }
    }
    (start, end)
}
