//! The detector seam: each rule family declares, next to its confirmation code, the rules it
//! reports, the prefilter keywords that reach it, and examples of real contexts it must
//! report (or stay silent on). One check runs every example (`leakscan rules --check`, the
//! `detectors` test), so adding a context is adding an example.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

use super::{bootstrap, dockerconfig, jwt, kubeconfig, kubectl, pem};

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

/// Credentials an example's markers may name.
pub const MARKERS: &[&str] = &["legacy-jwt", "bound-jwt", "jwt", "private-key"];

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
        self.values
            .get(e.secret)
            .cloned()
            .unwrap_or_else(|| e.secret.to_owned())
    }
}

impl Example {
    /// Fills the example's markers with `fill(NAME)` (called once per name).
    pub fn render(&self, fill: &mut dyn FnMut(&str) -> String) -> Rendered {
        let mut text = self.text.to_owned();
        let mut values = BTreeMap::new();
        for name in MARKERS {
            let plain = format!("{{{{{name}}}}}");
            let b64 = format!("{{{{b64:{name}}}}}");
            if !text.contains(&plain) && !text.contains(&b64) {
                continue;
            }
            let value = fill(name);
            let encoded = STANDARD.encode(&value);
            text = text.replace(&plain, &value).replace(&b64, &encoded);
            values.insert(plain, value);
            values.insert(b64, encoded);
        }
        Rendered { text, values }
    }
}

/// Every built-in detector, in the order `leakscan rules --check` runs them.
pub const DETECTORS: &[Detector] = &[
    jwt::DETECTOR,
    kubeconfig::DETECTOR,
    kubectl::DETECTOR,
    bootstrap::DETECTOR,
    dockerconfig::DETECTOR,
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
        other => format!("{{{{{other}}}}}"),
    }
}
