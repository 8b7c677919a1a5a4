//! Credentials of kubeconfig users: `token`, `password`, `client-key-data` under `user:`,
//! and `id-token` / `refresh-token` / `client-secret` under `auth-provider: config:`.
//!
//! Common words like `token` and `password` are only findings inside that structure, which
//! is checked from the hit backwards: by indentation for YAML, by brace nesting for JSON.

use crate::analyse;
use crate::decode::{self, Step};
use crate::rules::{self, is_placeholder, jwt, pem, value_after_key};
use crate::scanner::Candidate;

/// How far back the structure check looks for enclosing keys.
const LOOKBACK: usize = 16 * 1024;

/// Key of the line that encloses line `line_start` in YAML (the nearest earlier line with
/// smaller indentation), as (key, that line's start, its key indentation).
fn yaml_parent(data: &[u8], line_start: usize, indent: usize) -> Option<(&[u8], usize, usize)> {
    let lo = line_start.saturating_sub(LOOKBACK);
    let mut end = line_start;
    while end > lo {
        // `end` is the start of the line below; the line above ends at end - 1.
        let prev_end = end - 1;
        let start = memchr::memrchr(b'\n', &data[lo..prev_end]).map_or(lo, |p| lo + p + 1);
        let line = &data[start..prev_end];
        end = start;
        let spaces = line.iter().take_while(|&&b| b == b' ').count();
        let rest = &line[spaces..];
        if rest.is_empty() || rest[0] == b'#' || rest == b"\r" {
            continue;
        }
        // "- key:" puts the key two columns further in.
        let (key_indent, key_text) = match rest.strip_prefix(b"- ") {
            Some(r) => (spaces + 2, r),
            None => (spaces, rest),
        };
        if key_indent < indent {
            let colon = memchr::memchr(b':', key_text)?;
            let key = key_text[..colon].trim_ascii();
            let key = key
                .strip_prefix(b"\"")
                .and_then(|k| k.strip_suffix(b"\""))
                .unwrap_or(key);
            return Some((key, start, key_indent));
        }
        if start == lo {
            break;
        }
    }
    None
}

/// Enclosing keys of `pos` in YAML, innermost first (up to two).
fn yaml_ancestors(data: &[u8], key_pos: usize) -> Vec<&[u8]> {
    let Some(line_start) = rules::line_start(data, key_pos) else {
        return Vec::new();
    };
    let indent = key_pos - line_start;
    let mut out = Vec::new();
    let (mut ls, mut ind) = (line_start, indent);
    while out.len() < 2 {
        match yaml_parent(data, ls, ind) {
            Some((key, start, key_indent)) => {
                out.push(key);
                ls = start;
                ind = key_indent;
            }
            None => break,
        }
    }
    out
}

/// Enclosing object keys of `pos` in JSON, innermost first (up to two): walks back counting
/// braces to each enclosing `{`, then reads the `"key":` before it.
fn json_ancestors(data: &[u8], pos: usize) -> Vec<&[u8]> {
    let lo = pos.saturating_sub(LOOKBACK);
    let mut out = Vec::new();
    let mut i = pos;
    let mut depth = 0usize;
    while i > lo && out.len() < 2 {
        i -= 1;
        match data[i] {
            b'}' | b']' => depth += 1,
            b'[' if depth > 0 => depth -= 1,
            b'{' if depth > 0 => depth -= 1,
            b'{' => {
                // Read `"key"\s*:\s*` backwards from i.
                let mut j = i;
                while j > lo && data[j - 1].is_ascii_whitespace() {
                    j -= 1;
                }
                if j == lo || data[j - 1] != b':' {
                    // An array element or the top level: no key names this object.
                    if j > lo && matches!(data[j - 1], b'[' | b',') {
                        continue;
                    }
                    break;
                }
                j -= 1;
                while j > lo && data[j - 1].is_ascii_whitespace() {
                    j -= 1;
                }
                if j == lo || data[j - 1] != b'"' {
                    break;
                }
                let close = j - 1;
                let Some(open) = memchr::memrchr(b'"', &data[lo..close]).map(|p| lo + p) else {
                    break;
                };
                out.push(&data[open + 1..close]);
                i = open;
            }
            _ => {}
        }
    }
    out
}

/// The kubeconfig credential whose key contains the keyword hit at `hit_start..hit_end`.
pub(crate) fn at(data: &[u8], hit_start: usize, hit_end: usize, now: i64) -> Option<Candidate> {
    let ks = rules::key_start(data, hit_start);
    // Keywords `token:` / `token"` end one past the key; others may be part of a longer key.
    let ke = if matches!(data[hit_end - 1], b':' | b'"') {
        hit_end - 1
    } else {
        rules::key_end(data, hit_end)
    };
    let key = &data[ks..ke];
    // Cheapest checks first: most hits are `token:` / `password` outside any kubeconfig.
    if !matches!(
        key,
        b"token"
            | b"password"
            | b"client-key-data"
            | b"id-token"
            | b"refresh-token"
            | b"client-secret"
    ) {
        return None;
    }
    let json = ks > 0 && data[ks - 1] == b'"';
    let value = value_after_key(data, ke)?;
    let text = value.text;
    if is_placeholder(text) {
        return None;
    }
    let ancestors = if json {
        json_ancestors(data, ks - 1)
    } else {
        // YAML keys sit at the start of their line (after indentation or "- ").
        let line_start = rules::line_start(data, ks)?;
        let lead = &data[line_start..ks];
        if lead.is_empty() || !lead.iter().all(|&b| matches!(b, b' ' | b'-')) {
            // A top-level key has no enclosing `user:`.
            return None;
        }
        yaml_ancestors(data, ks)
    };
    let parent = ancestors.first().copied();
    let grandparent = ancestors.get(1).copied();
    let in_user = parent == Some(b"user".as_slice());
    let in_auth_provider =
        parent == Some(b"config".as_slice()) && grandparent == Some(b"auth-provider".as_slice());
    let mut c = match key {
        b"token" if in_user => {
            // A JWT is reported by the JWT rule, with its claims.
            if text.starts_with("eyJ") && jwt::parse(data, value.start).is_some() {
                return None;
            }
            if text.len() < 8 {
                return None;
            }
            Candidate::new(
                rules::KUBECONFIG_TOKEN,
                value.start,
                value.end,
                text.to_owned(),
            )
        }
        b"password" if in_user => Candidate::new(
            rules::KUBECONFIG_PASSWORD,
            value.start,
            value.end,
            text.to_owned(),
        ),
        b"client-key-data" if in_user => {
            let mut c = Candidate::new(
                rules::KUBECONFIG_CLIENT_KEY,
                value.start,
                value.end,
                text.to_owned(),
            );
            if text.starts_with("-----BEGIN") {
                if !pem::contains_private_key(text.as_bytes()) {
                    return None;
                }
            } else {
                let decoded = decode::decode_base64(text.as_bytes())?;
                if !pem::contains_private_key(&decoded.bytes) {
                    return None;
                }
                c.steps.push(Step::Base64);
            }
            c
        }
        b"id-token" | b"refresh-token" | b"client-secret" if in_auth_provider => {
            if text.len() < 8 {
                return None;
            }
            let mut c = Candidate::new(
                rules::KUBECONFIG_OIDC_TOKEN,
                value.start,
                value.end,
                text.to_owned(),
            );
            if let Some(j) = jwt::parse(data, value.start) {
                c.token = Some(analyse::classify(&j.header, &j.claims, now).1);
            }
            c
        }
        _ => return None,
    };
    c.description = None;
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str, kw: &str) -> Option<Candidate> {
        let s = text.find(kw).unwrap();
        at(text.as_bytes(), s, s + kw.len(), 0)
    }

    #[test]
    fn yaml_user_token() {
        let text = "users:\n- name: admin\n  user:\n    token: 0123456789abcdef0123\n";
        let c = find(text, "token:").unwrap();
        assert_eq!(c.rule_id, rules::KUBECONFIG_TOKEN);
        assert_eq!(c.secret, "0123456789abcdef0123");
    }

    #[test]
    fn token_outside_a_user_is_ignored() {
        let text =
            "steps:\n  - uses: actions/checkout@v4\n    with:\n      token: 0123456789abcdef0123\n";
        assert!(find(text, "token:").is_none());
    }

    #[test]
    fn json_auth_provider() {
        let text = r#"{"users":[{"name":"a","user":{"auth-provider":{"config":{"client-secret":"s3cr3t-v4lue-123"},"name":"oidc"}}}]}"#;
        let c = find(text, "client-secret").unwrap();
        assert_eq!(c.rule_id, rules::KUBECONFIG_OIDC_TOKEN);
        assert_eq!(c.secret, "s3cr3t-v4lue-123");
    }

    #[test]
    fn redacted_values_are_ignored() {
        let text =
            "users:\n- name: a\n  user:\n    client-key-data: DATA+OMITTED\n    token: REDACTED\n";
        assert!(find(text, "client-key-data").is_none());
        assert!(find(text, "token:").is_none());
    }
}
