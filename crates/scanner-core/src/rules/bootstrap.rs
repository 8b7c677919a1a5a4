//! kubeadm bootstrap tokens (`[a-z0-9]{6}.[a-z0-9]{16}`), only in bootstrap contexts:
//! a `kubeadm … --token` command line, or a `bootstrap.kubernetes.io/token` Secret's
//! `token-id` + `token-secret` (plain in `stringData`, base64 in `data`).

use std::sync::OnceLock;

use regex::bytes::Regex;

use crate::decode::{self, Step};
use crate::rules::{self, value_after_key};
use crate::scanner::Candidate;

/// The example from the Kubernetes documentation; never a real credential.
const DOC_EXAMPLE: &str = "abcdef.0123456789abcdef";
/// How far from `token-secret` the matching `token-id` may be.
const ID_WINDOW: usize = 2048;

fn token_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // ok: constant pattern.
    RE.get_or_init(|| {
        Regex::new(r"(?:^|[^a-z0-9.])([a-z0-9]{6}\.[a-z0-9]{16})(?:$|[^a-z0-9.])")
            .expect("bootstrap regex compiles")
    })
}

/// Bootstrap tokens on the (backslash-continued) `kubeadm` command line holding `hit`.
pub(crate) fn kubeadm_line(data: &[u8], hit: usize) -> Vec<Candidate> {
    let Some(start) = rules::line_start(data, hit) else {
        return Vec::new();
    };
    let mut end = hit;
    for _ in 0..8 {
        end = rules::line_end(data, end);
        let line = data[start..end].trim_ascii_end();
        if line.ends_with(b"\\") && end < data.len() {
            end += 1;
        } else {
            break;
        }
    }
    let line = &data[start..end];
    let mut out = Vec::new();
    for caps in token_re().captures_iter(line) {
        let Some(m) = caps.get(1) else { continue };
        // Only a value of a token flag or `kubeadm token create`, not any dotted word.
        if memchr::memmem::find(&line[..m.start()], b"token").is_none() {
            continue;
        }
        let secret = String::from_utf8_lossy(m.as_bytes()).into_owned();
        if secret == DOC_EXAMPLE {
            continue;
        }
        out.push(Candidate::new(
            rules::K8S_BOOTSTRAP_TOKEN,
            start + m.start(),
            start + m.end(),
            secret,
        ));
    }
    out
}

/// A bootstrap-token Secret value of `len` characters from `[a-z0-9]`, plain or base64.
fn decode_part(text: &str, len: usize) -> Option<(String, bool)> {
    let ok = |s: &[u8]| {
        s.len() == len
            && s.iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if ok(text.as_bytes()) {
        return Some((text.to_owned(), false));
    }
    let d = decode::decode_base64(text.as_bytes())?;
    ok(&d.bytes).then(|| (String::from_utf8_lossy(&d.bytes).into_owned(), true))
}

/// The bootstrap token whose `token-secret` key is at `hit_start..hit_end`, joined with the
/// `token-id` near it.
pub(crate) fn token_secret(data: &[u8], hit_start: usize, hit_end: usize) -> Option<Candidate> {
    let ke = hit_end + usize::from(data.get(hit_end) == Some(&b'"'));
    let value = value_after_key(data, hit_end).or_else(|| value_after_key(data, ke))?;
    let (secret, secret_b64) = decode_part(value.text, 16)?;
    let lo = hit_start.saturating_sub(ID_WINDOW);
    let hi = (hit_end + ID_WINDOW).min(data.len());
    let id = memchr::memmem::find_iter(&data[lo..hi], b"token-id")
        .filter_map(|p| value_after_key(data, lo + p + 8))
        .find_map(|v| decode_part(v.text, 6));
    let full = match &id {
        Some((id, _)) => format!("{id}.{secret}"),
        None => secret,
    };
    if full == DOC_EXAMPLE || full.ends_with(".0123456789abcdef") || full == "0123456789abcdef" {
        return None;
    }
    let mut c = Candidate::new(rules::K8S_BOOTSTRAP_TOKEN, value.start, value.end, full);
    if secret_b64 {
        c.steps.push(Step::Base64);
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeadm_join_with_continuation() {
        let text = b"kubeadm join 10.0.0.1:6443 \\\n  --token k8x2mp.9qz7w4v1c3n5b6a8 \\\n  --discovery-token-ca-cert-hash sha256:abc\n";
        let c = kubeadm_line(text, 0);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].secret, "k8x2mp.9qz7w4v1c3n5b6a8");
    }

    #[test]
    fn documentation_example_is_not_a_finding() {
        let text = b"kubeadm join 1.2.3.4:6443 --token abcdef.0123456789abcdef\n";
        assert!(kubeadm_line(text, 0).is_empty());
    }

    #[test]
    fn base64_secret_pair() {
        // token-id: "k8x2mp", token-secret: "9qz7w4v1c3n5b6a8"
        let text = "data:\n  token-id: azh4Mm1w\n  token-secret: OXF6N3c0djFjM241YjZhOA==\n";
        let s = text.find("token-secret").unwrap();
        let c = token_secret(text.as_bytes(), s, s + 12).unwrap();
        assert_eq!(c.secret, "k8x2mp.9qz7w4v1c3n5b6a8");
        assert_eq!(c.steps, vec![Step::Base64]);
    }
}
