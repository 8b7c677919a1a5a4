//! JWTs: regex confirmation of the three-segment shape, then a real structure check.
//!
//! A candidate is a JWT only when its header decodes to a JSON object with an `alg` other
//! than `none`, its payload decodes to a JSON object, and its signature has a length that
//! fits the algorithm. Truncated, redacted and placeholder look-alikes fail one of these.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use regex::bytes::Regex;
use serde_json::{Map, Value};

use crate::analyse;
use crate::candidate::Candidate;
use crate::rules;
use crate::rules::detector::{Detector, Example, Expect};
use crate::rules::wrapped;

/// Longest JWT considered; real service-account tokens are 900–1,500 bytes, but OIDC
/// tokens with group claims grow much larger.
pub(crate) const MAX_JWT: usize = 32 * 1024;

fn shape() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // ok: constant pattern.
    RE.get_or_init(|| {
        Regex::new(r"^eyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{16,}")
            .expect("JWT regex compiles")
    })
}

/// A JWT that passed the structure check.
#[derive(Debug, Clone)]
pub(crate) struct Jwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub len: usize,
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

pub(crate) fn decode_json_object(seg: &[u8]) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(seg).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Whether a signature of `len` bytes is plausible for `alg`.
pub(crate) fn signature_fits(alg: &str, len: usize) -> bool {
    match alg {
        "ES256" | "HS512" | "EdDSA" | "ES256K" => len == 64,
        "ES384" => len == 96,
        "ES512" => len == 132,
        "HS256" => len == 32,
        "HS384" => len == 48,
        // RSA signatures are as long as the modulus: 1024 to 8192 bits.
        a if a.starts_with("RS") || a.starts_with("PS") => (128..=1024).contains(&len),
        _ => len >= 16,
    }
}

/// Parses and checks the JWT starting at `start` (which holds `eyJ`).
pub(crate) fn parse(data: &[u8], start: usize) -> Option<Jwt> {
    // No look at the byte before: a token glued to other text (after a JSON `\n` escape,
    // in `/api/v1/eyJ...`, after bytes decoded from glued base64) is still a token, and a
    // later segment of one cannot pass as a token itself (its next segment is no `eyJ`).
    let window = &data[start..data.len().min(start + MAX_JWT)];
    // Most `eyJ` hits in ordinary text are base64 JSON blobs with no second segment; a plain
    // loop rejects them before the regex is asked.
    let dot = window.iter().position(|&b| !is_b64url(b))?;
    if !window[dot..].starts_with(b".eyJ") {
        return None;
    }
    let m = shape().find(window)?;
    let token = &window[..m.end()];
    // A dot after the signature is the text's, not a fourth segment: a JWE (five segments)
    // has no `eyJ` second segment and an `enc` header, and fails the checks below anyway.
    let mut parts = token.split(|&b| b == b'.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    let header = decode_json_object(h)?;
    let alg = header.get("alg")?.as_str()?;
    if alg.eq_ignore_ascii_case("none") || header.contains_key("enc") {
        return None;
    }
    let claims = decode_json_object(p)?;
    // Text glued after the signature may leave it a length no base64 has, or non-zero
    // trailing bits; the regex let only base64url characters through, so its length is all
    // there is to check. The reported secret runs to the end of the glued text.
    let sig_chars = s.len() - usize::from(s.len() % 4 == 1);
    if !signature_fits(alg, sig_chars * 3 / 4) {
        return None;
    }
    Some(Jwt {
        header,
        claims,
        len: token.len(),
    })
}

/// The end of a JWT whose dots are percent-encoded (`eyJ…%2EeyJ…%2E…` in a URL or a query
/// string) starting at `start`, for decoding and a second look; `None` if it is not one.
pub(crate) fn percent_encoded(data: &[u8], start: usize) -> Option<usize> {
    let window = &data[start..data.len().min(start + 3 * MAX_JWT)];
    let dot = window.iter().position(|&b| !is_b64url(b))?;
    let sep = window.get(dot..dot + 6)?;
    if !sep[..3].eq_ignore_ascii_case(b"%2E") || &sep[3..] != b"eyJ" {
        return None;
    }
    let len = window
        .iter()
        .position(|&b| !(is_b64url(b) || b == b'%'))
        .unwrap_or(window.len());
    Some(start + len)
}

/// Sample tokens printed in documentation everyone copies from: (token, where).
const PUBLISHED: &[(&str, &str)] = &[
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "jwt.io's sample token",
    ),
    (
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        "the example JWT of RFC 7519 section 3.1",
    ),
];

/// The finding for a JWT starting at `start`, classified as legacy / bound / other.
pub(crate) fn at(data: &[u8], start: usize, now: i64) -> Option<Candidate> {
    // On one line, or reassembled from the lines a wrap split it into.
    let found = wrapped::token(data, start)?;
    let (rule_id, mut info) = analyse::classify(&found.jwt.header, &found.jwt.claims, now);
    let end = found.end;
    let secret = found
        .joined
        .unwrap_or_else(|| String::from_utf8_lossy(&data[start..end]).into_owned());
    let sample = PUBLISHED.iter().find(|(t, _)| *t == secret);
    info.published_sample = sample.map(|(_, what)| (*what).to_owned());
    let mut c = Candidate::new(rule_id, start, end, secret);
    if let Some((_, what)) = sample {
        c.description = Some(format!(
            "JWT: {what}, published as documentation (not a secret)"
        ));
    }
    c.token = Some(info);
    Some(c)
}

/// Tokens as `kubectl`, CI logs, scripts and HTTP clients print them.
pub(crate) const DETECTOR: Detector = Detector {
    name: "jwt",
    rules: &[rules::K8S_SA_TOKEN_LEGACY, rules::K8S_SA_TOKEN_BOUND, rules::JWT],
    keywords: &["eyJ"],
    examples: &[
        Example {
            path: "incident/describe-secret.txt",
            text: "Name:         deployer-token-m4n8z\nNamespace:    ci\nLabels:       <none>\nAnnotations:  kubernetes.io/service-account.name: deployer\n              kubernetes.io/service-account.uid: 6b5c3e2a-1f4d-4c8e-9a7b-0d2e4f6a8c1e\n\nType:  kubernetes.io/service-account-token\n\nData\n====\nca.crt:     1066 bytes\nnamespace:  2 bytes\ntoken:      {{legacy-jwt}}\n",
            expect: &[Expect { rule: rules::K8S_SA_TOKEN_LEGACY, line: 13, secret: "{{legacy-jwt}}" }],
        },
        Example {
            path: "var/run/secrets/kubernetes.io/serviceaccount/token",
            text: "{{bound-jwt}}",
            expect: &[Expect { rule: rules::K8S_SA_TOKEN_BOUND, line: 1, secret: "{{bound-jwt}}" }],
        },
        Example {
            path: "token-request.json",
            text: "{\"kind\":\"TokenRequest\",\"apiVersion\":\"authentication.k8s.io/v1\",\"status\":{\"token\":\"{{bound-jwt}}\",\"expirationTimestamp\":\"2100-01-01T00:00:00Z\"}}\n",
            expect: &[Expect { rule: rules::K8S_SA_TOKEN_BOUND, line: 1, secret: "{{bound-jwt}}" }],
        },
        Example {
            // A CI log colours the token: it starts right after the escape sequence.
            path: "ci/job-4821.log",
            text: "2024-05-01T10:00:00.0000000Z \u{1b}[0;32m{{bound-jwt}}\u{1b}[0m\n",
            expect: &[Expect { rule: rules::K8S_SA_TOKEN_BOUND, line: 1, secret: "{{bound-jwt}}" }],
        },
        Example {
            // A shell default glues the token to `:-`.
            path: "deploy/deploy.sh",
            text: "#!/bin/bash\nTOKEN=${6:-{{legacy-jwt}}}\noc login --token=\"$TOKEN\"\n",
            expect: &[Expect { rule: rules::K8S_SA_TOKEN_LEGACY, line: 2, secret: "{{legacy-jwt}}" }],
        },
        Example {
            path: "docs/orders-api.md",
            text: "```\ncurl -H \"Authorization: Bearer {{jwt}}\" https://api.shop.example/v1/orders\n```\n",
            expect: &[Expect { rule: rules::JWT, line: 2, secret: "{{jwt}}" }],
        },
        Example {
            path: "README.md",
            text: "token: eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0...\nexport TOKEN=${SERVICE_ACCOUNT_TOKEN}\ncurl -H \"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.REDACTED\"\n",
            expect: &[],
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn token(header: &str, payload: &str, sig_len: usize) -> String {
        format!(
            "{}.{}.{}",
            b64(header),
            b64(payload),
            URL_SAFE_NO_PAD.encode(vec![7u8; sig_len])
        )
    }

    #[test]
    fn accepts_well_formed_and_rejects_look_alikes() {
        let good = token(r#"{"alg":"RS256","kid":"k"}"#, r#"{"sub":"x"}"#, 256);
        assert!(parse(good.as_bytes(), 0).is_some());
        let none = token(r#"{"alg":"none"}"#, r#"{"sub":"x"}"#, 256);
        assert!(parse(none.as_bytes(), 0).is_none());
        let short_sig = token(r#"{"alg":"RS256"}"#, r#"{"sub":"x"}"#, 40);
        assert!(parse(short_sig.as_bytes(), 0).is_none());
        let truncated = &good[..good.len() / 2];
        assert!(parse(truncated.as_bytes(), 0).is_none());
        assert!(parse(b"eyJhbGciOi...", 0).is_none());
        let not_json = format!("eyJub3Rqc29u.{}.{}", b64("{}"), "A".repeat(40));
        assert!(parse(not_json.as_bytes(), 0).is_none());
    }

    #[test]
    fn percent_encoded_dots_are_recognised_for_decoding() {
        let t = token(r#"{"alg":"RS256"}"#, r#"{"sub":"x"}"#, 256);
        let enc = t.replace('.', "%2E");
        let text = format!("GET /watch?token={enc}&x=1");
        let start = text.find("eyJ").unwrap();
        assert_eq!(
            percent_encoded(text.as_bytes(), start),
            Some(start + enc.len())
        );
        let lower = enc.replace("%2E", "%2e");
        assert_eq!(percent_encoded(lower.as_bytes(), 0), Some(lower.len()));
        // A plain token and a base64 blob followed by some other escape are not.
        assert_eq!(percent_encoded(t.as_bytes(), 0), None);
        assert_eq!(percent_encoded(b"eyJhbGciOiJ%2Fabc", 0), None);
    }

    #[test]
    fn long_tokens_are_not_capped() {
        let payload = format!(r#"{{"sub":"x","groups":["{}"]}}"#, "g".repeat(3000));
        let t = token(r#"{"alg":"ES256"}"#, &payload, 64);
        let jwt = parse(t.as_bytes(), 0).unwrap();
        assert_eq!(jwt.len, t.len());
    }
}
