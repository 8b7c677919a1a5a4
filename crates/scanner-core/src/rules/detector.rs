//! The detector seam: each rule family declares, next to its confirmation code, the rules it
//! reports, the prefilter keywords that reach it, and examples of real contexts it must
//! report (or stay silent on). One check runs every example (`leakscan rules --check`, the
//! `detectors` test), so adding a context is adding an example.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

use super::{bootstrap, dockerconfig, jwt, kubeconfig, kubectl, pem, static_file};

/// A rule family: one place that says what it finds and shows where.
#[derive(Debug, Clone, Copy)]
pub struct Detector {
    /// Short name (the module that confirms its candidates).
    pub name: &'static str,
    /// Rule ids it reports.
    pub rules: &'static [&'static str],
    /// Prefilter keywords whose hits reach it (prefilter.rs searches them as shared stems).
    pub keywords: &'static [&'static str],
    /// Contexts it must report, and look-alikes it must stay silent on.
    pub examples: &'static [Example],
}

/// A piece of text as it appears in the wild, with what a scan of it must report.
///
/// `{{NAME}}` markers stand for credentials generated when the example is rendered (see
/// [`Example::render`]); `{{b64:NAME}}` is the standard base64 of the same value.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// Path the text is scanned as (some contexts depend on the file name).
    pub path: &'static str,
    /// The text.
    pub text: &'static str,
    /// Every finding the scan must give, in input order; empty for a negative example.
    pub expect: &'static [Expect],
}

/// One expected finding of an [`Example`].
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    /// Rule id.
    pub rule: &'static str,
    /// 1-based line the finding starts on.
    pub line: u64,
    /// The secret reported: literal text, or a `{{NAME}}` marker of the example.
    pub secret: &'static str,
}

/// Credentials an example's markers may name. Every credential of an example is a marker,
/// never literal text: leakscan's own binary holds the examples, and must not be a finding
/// when a scan meets it (`/usr/local/bin`, a container image).
pub const MARKERS: &[&str] = &[
    "legacy-jwt",
    "bound-jwt",
    "jwt",
    "private-key",
    "bootstrap-token",
    "opaque-token",
    "opaque-token-2",
    "password",
    "registry-password",
];

/// Markers made from another's value when an example is rendered: a bootstrap token's two
/// halves (a bootstrap Secret holds them apart), and a dockerconfigjson document holding
/// `registry-password`.
const DERIVED: &[&str] = &[
    "bootstrap-token.id",
    "bootstrap-token.secret",
    "dockerconfigjson",
];

/// An example with its markers replaced by generated credentials.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The text to scan.
    pub text: String,
    /// Each marker's value (`{{b64:NAME}}` included).
    pub values: BTreeMap<String, String>,
}

impl Rendered {
    /// The secret an expectation names, with its marker resolved.
    pub fn secret(&self, e: &Expect) -> String {
        let mut s = e.secret.to_owned();
        for (marker, value) in &self.values {
            s = s.replace(marker.as_str(), value);
        }
        s
    }
}

impl Example {
    /// Fills the example's markers with `fill(NAME)` (called once per name).
    pub fn render(&self, fill: &mut dyn FnMut(&str) -> String) -> Rendered {
        let mut text = self.text.to_owned();
        let mut values = BTreeMap::new();
        let used = |name: &str, text: &str| {
            text.contains(&format!("{{{{{name}")) || text.contains(&format!("{{{{b64:{name}"))
        };
        let mut plain: BTreeMap<&str, String> = BTreeMap::new();
        for name in MARKERS {
            let needed = used(name, &text)
                || (*name == "registry-password" && used("dockerconfigjson", &text));
            if needed {
                plain.insert(name, fill(name));
            }
        }
        let mut derived: Vec<(&str, String)> = Vec::new();
        if let Some((id, secret)) = plain.get("bootstrap-token").and_then(|t| t.split_once('.')) {
            derived.push((DERIVED[0], id.to_owned()));
            derived.push((DERIVED[1], secret.to_owned()));
        }
        if let Some(pw) = plain.get("registry-password") {
            let auth = STANDARD.encode(format!("ci-bot:{pw}"));
            derived.push((
                DERIVED[2],
                format!(
                    r#"{{"auths":{{"registry.example.com":{{"username":"ci-bot","password":"{pw}","auth":"{auth}"}}}}}}"#
                ),
            ));
        }
        // Derived names first: `{{bootstrap-token.id}}` must not be read as
        // `{{bootstrap-token` followed by text.
        let all = derived
            .into_iter()
            .chain(plain.iter().map(|(k, v)| (*k, v.clone())));
        for (name, value) in all {
            let (m, b) = (format!("{{{{{name}}}}}"), format!("{{{{b64:{name}}}}}"));
            let encoded = STANDARD.encode(&value);
            text = text.replace(&m, &value).replace(&b, &encoded);
            values.insert(m, value);
            values.insert(b, encoded);
        }
        Rendered { text, values }
    }

    /// Whether every `{{…}}` in the text is a marker leakscan fills (Helm's `{{ … }}`, with
    /// a space, is text).
    pub fn markers_known(&self) -> bool {
        self.text.match_indices("{{").all(|(i, _)| {
            let rest = &self.text[i + 2..];
            if rest.starts_with(' ') {
                return true;
            }
            let name = rest.strip_prefix("b64:").unwrap_or(rest);
            let Some(end) = name.find("}}") else {
                return false;
            };
            MARKERS.contains(&&name[..end]) || DERIVED.contains(&&name[..end])
        })
    }
}

/// Every built-in detector, in the order `leakscan rules --check` runs them.
pub const DETECTORS: &[Detector] = &[
    jwt::DETECTOR,
    kubeconfig::DETECTOR,
    kubectl::DETECTOR,
    bootstrap::DETECTOR,
    dockerconfig::DETECTOR,
    static_file::DETECTOR,
    pem::DETECTOR,
    crate::decode::DETECTOR,
];

/// Credentials with the right structure and made-up signatures and key bytes: enough for
/// every detector (none verifies a signature unless given keys), and needs no key generation,
/// so the CLI's self-check can render examples. Tests render with really signed tokens.
pub fn structural(name: &str) -> String {
    let sig =
        |n: usize| URL_SAFE_NO_PAD.encode((0..n).map(|i| (i * 37 + 11) as u8).collect::<Vec<_>>());
    let jwt = |header: &str, claims: &str, n: usize| {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims),
            sig(n)
        )
    };
    match name {
        "legacy-jwt" => jwt(
            r#"{"alg":"RS256","kid":"structural-example"}"#,
            r#"{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"ci","kubernetes.io/serviceaccount/secret.name":"deployer-token-m4n8z","kubernetes.io/serviceaccount/service-account.name":"deployer","kubernetes.io/serviceaccount/service-account.uid":"6b5c3e2a-1f4d-4c8e-9a7b-0d2e4f6a8c1e","sub":"system:serviceaccount:ci:deployer"}"#,
            256,
        ),
        "bound-jwt" => jwt(
            r#"{"alg":"RS256","kid":"structural-example"}"#,
            r#"{"aud":["https://kubernetes.default.svc.cluster.local"],"exp":4102444800,"iat":1714557600,"iss":"https://kubernetes.default.svc.cluster.local","kubernetes.io":{"namespace":"apps","pod":{"name":"api-7d9f8c6b5-x2k4q","uid":"0f4c7b9e-3a2d-4e1f-8b6a-5c9d2e7f1a3b"},"serviceaccount":{"name":"api","uid":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}},"nbf":1714557600,"sub":"system:serviceaccount:apps:api"}"#,
            256,
        ),
        "jwt" => jwt(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"sub":"user-4821","iss":"https://auth.shop.example","exp":4102444800}"#,
            32,
        ),
        "private-key" => {
            let body = STANDARD.encode((0..1190).map(|i| (i * 53 + 7) as u8).collect::<Vec<_>>());
            let lines: Vec<&str> = body
                .as_bytes()
                .chunks(64)
                .map(|c| std::str::from_utf8(c).unwrap_or_default())
                .collect();
            format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
                lines.join("\n")
            )
        }
        "bootstrap-token" => format!("{}.{}", pseudo_random(name, 6), pseudo_random("secret", 16)),
        "password" | "registry-password" => {
            format!("{}-{}!", pseudo_random(name, 6), pseudo_random("pw", 6)).replacen('a', "A", 1)
        }
        other => pseudo_random(other, 32),
    }
}

/// `len` characters of `[a-z0-9]` drawn from a generator seeded by `seed`: fixed per name,
/// random-looking to every placeholder check, and never stored as text in the binary.
fn pseudo_random(seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHABET[(x % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}
