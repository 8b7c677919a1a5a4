//! Registry credentials in `kubernetes.io/dockerconfigjson` (and legacy `dockercfg`)
//! Secrets: the `.dockerconfigjson` value is decoded (base64 in `data`, JSON in
//! `stringData`) and every `auths.*` entry with an `auth` or `password` is a finding.

use serde_json::Value as Json;

use crate::candidate::Candidate;
use crate::decode::{self, Step};
use crate::rules::detector::{Detector, Example, Expect};
use crate::rules::{self, is_placeholder, value_after_key};

/// Longest block-scalar JSON value read after a `.dockerconfigjson: |` key.
const MAX_BLOCK: usize = 64 * 1024;

/// A YAML block scalar (`key: |`) following the line that ends at `line_end`: the lines
/// indented deeper than `indent`.
fn block_scalar(data: &[u8], line_end: usize, indent: usize) -> Option<(usize, usize)> {
    let start = line_end + 1;
    let mut end = start;
    let hi = (start + MAX_BLOCK).min(data.len());
    while end < hi {
        let next = memchr::memchr(b'\n', &data[end..hi]).map_or(hi, |p| end + p);
        let line = &data[end..next];
        let ind = line.iter().take_while(|&&b| b == b' ').count();
        if ind <= indent && !line.trim_ascii().is_empty() {
            break;
        }
        end = (next + 1).min(hi);
    }
    (end > start).then_some((start, end))
}

/// Findings for the dockerconfig value whose key ends at `key_end`, and where the value
/// ends (so its base64 is not rescanned).
pub(crate) fn at(data: &[u8], key_end: usize) -> Option<(Vec<Candidate>, usize)> {
    let v = value_after_key(data, key_end)?;
    let (start, end, is_block) = if matches!(v.text, "|" | "|-" | "|+" | ">" | ">-") {
        let line_start = rules::line_start(data, key_end)?;
        let indent = data[line_start..]
            .iter()
            .take_while(|&&b| b == b' ')
            .count();
        let (s, e) = block_scalar(data, v.end, indent)?;
        (s, e, true)
    } else {
        (v.start, v.end, false)
    };
    let raw = &data[start..end];
    let trimmed = raw.trim_ascii();
    let (json_bytes, steps): (Vec<u8>, Vec<Step>) = if trimmed.starts_with(b"{") {
        if memchr::memmem::find(trimmed, b"\\\"").is_some() && !is_block {
            (decode::unescape_json(trimmed).bytes, vec![Step::JsonEscape])
        } else {
            (trimmed.to_vec(), Vec::new())
        }
    } else {
        (decode::decode_base64(trimmed)?.bytes, vec![Step::Base64])
    };
    let doc: Json = serde_json::from_slice(&json_bytes).ok()?;
    let auths = doc.get("auths").unwrap_or(&doc).as_object()?;
    let mut out = Vec::new();
    for (registry, entry) in auths {
        let field = |k: &str| {
            entry
                .get(k)
                .and_then(Json::as_str)
                .filter(|s| !is_placeholder(s))
        };
        let secret = match (field("password"), field("auth"), field("identitytoken")) {
            (Some(p), _, _) => p.to_owned(),
            (None, Some(a), _) => {
                // auth is base64("user:password"); an empty password is no credential.
                let d = decode::decode_base64(a.as_bytes())?;
                let s = String::from_utf8_lossy(&d.bytes);
                match s.split_once(':') {
                    Some((_, pw)) if !is_placeholder(pw) => a.to_owned(),
                    _ => continue,
                }
            }
            (None, None, Some(t)) => t.to_owned(),
            _ => continue,
        };
        // In plain JSON the secret can be pointed at exactly.
        let (s, e) = match steps.is_empty() {
            true => memchr::memmem::find(raw, secret.as_bytes())
                .map_or((start, end), |p| (start + p, start + p + secret.len())),
            false => (start, end),
        };
        let mut c = Candidate::new(rules::K8S_DOCKERCONFIGJSON, s, e, secret);
        c.steps = steps.clone();
        c.description = Some(format!(
            "Container registry credentials for {registry} in a dockerconfigjson Secret"
        ));
        out.push(c);
    }
    Some((out, end))
}

/// Image pull secrets.
pub(crate) const DETECTOR: Detector = Detector {
    name: "dockerconfig",
    rules: &[rules::K8S_DOCKERCONFIGJSON],
    keywords: &["dockerconfigjson", "dockercfg"],
    examples: &[
        Example {
            path: "manifests/pull-secret.yaml",
            text: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {{b64:dockerconfigjson}}\n",
            expect: &[Expect { rule: rules::K8S_DOCKERCONFIGJSON, line: 7, secret: "{{registry-password}}" }],
        },
        Example {
            path: "manifests/pull-secret.yaml",
            text: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{\"auths\":{\"registry.example.com\":{\"username\":\"ci-bot\",\"password\":\"{{registry-password}}\"}}}'\n",
            expect: &[Expect { rule: rules::K8S_DOCKERCONFIGJSON, line: 7, secret: "{{registry-password}}" }],
        },
        Example {
            path: "manifests/empty-pull-secret.yaml",
            text: "kind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: e30=\n",
            expect: &[],
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn base64_dockerconfigjson() {
        let auth = base64::engine::general_purpose::STANDARD.encode("robot:Sup3rS3cret!");
        let json = format!(r#"{{"auths":{{"registry.example.com":{{"auth":"{auth}"}}}}}}"#);
        let b64 = base64::engine::general_purpose::STANDARD.encode(json);
        let text =
            format!("data:\n  .dockerconfigjson: {b64}\ntype: kubernetes.io/dockerconfigjson\n");
        let kw = text.find("dockerconfigjson").unwrap() + "dockerconfigjson".len();
        let (c, _) = at(text.as_bytes(), kw).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].secret, auth);
        assert_eq!(c[0].steps, vec![Step::Base64]);
    }
}
