//! Property (issue 11, "What to build" 4): a service-account token embedded at any offset
//! in random text, with base64url characters glued right before or after it, in any
//! encoding layer the README promises, is found with its rule id at the line and column
//! where the encoded text carrying its first byte starts.
//!
//! 1000 cases per run (PROPTEST_CASES changes it); the token is signed once, outside the loop.

mod common;

use std::sync::OnceLock;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use proptest::prelude::*;
use scanner_core::{Origin, Scanner};

/// One legacy service-account token, really RS256-signed.
fn token() -> &'static str {
    static TOK: OnceLock<String> = OnceLock::new();
    TOK.get_or_init(|| common::legacy_token("prop-ns", "prop-sa", "prop-sa-token-k2x9q"))
}

/// The encoding layers README promises.
#[derive(Debug, Clone, Copy)]
enum Layer {
    Plain,
    Base64Std,
    Base64StdNoPad,
    Base64Url,
    Base64UrlNoPad,
    YamlSecretWrapped76,
    JsonString,
    Percent,
    Base64OfJson,
    Base64OfBase64,
}

const LAYERS: &[Layer] = &[
    Layer::Plain,
    Layer::Base64Std,
    Layer::Base64StdNoPad,
    Layer::Base64Url,
    Layer::Base64UrlNoPad,
    Layer::YamlSecretWrapped76,
    Layer::JsonString,
    Layer::Percent,
    Layer::Base64OfJson,
    Layer::Base64OfBase64,
];

/// Where base64 text starts carrying decoded byte `d`.
fn b64_pos(d: usize) -> usize {
    d / 3 * 4 + d % 3
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The token in `layer`, and the offset in it where the finding must be reported; the
/// expected decoding steps.
fn encode(layer: Layer, tok: &str) -> (String, usize, Vec<&'static str>) {
    match layer {
        Layer::Plain => (tok.to_owned(), 0, vec![]),
        Layer::Base64Std => (STANDARD.encode(tok), 0, vec!["base64"]),
        Layer::Base64StdNoPad => (STANDARD_NO_PAD.encode(tok), 0, vec!["base64"]),
        Layer::Base64Url => (URL_SAFE.encode(tok), 0, vec!["base64"]),
        Layer::Base64UrlNoPad => (URL_SAFE_NO_PAD.encode(tok), 0, vec!["base64"]),
        Layer::YamlSecretWrapped76 => {
            let mut text = String::from(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: prop-sa-token-k2x9q\n  namespace: prop-ns\ntype: kubernetes.io/service-account-token\ndata:\n  token: |\n",
            );
            let at = text.len() + 4;
            let b = STANDARD.encode(tok);
            for line in b.as_bytes().chunks(76) {
                text.push_str("    ");
                text.push_str(std::str::from_utf8(line).unwrap());
                text.push('\n');
            }
            (text, at, vec!["base64"])
        }
        Layer::JsonString => {
            let s = serde_json::to_string(&format!("login ok\n{tok}\n\"done\"")).unwrap();
            let at = s.find(tok).unwrap();
            (s, at, vec![])
        }
        Layer::Percent => {
            let json = serde_json::json!({"token": tok, "next": "/home?a=1"}).to_string();
            let q = format!("/callback?state={}&x=1", percent(&json));
            let at = q.find(tok).unwrap();
            (q, at, vec![])
        }
        Layer::Base64OfJson => {
            let json = serde_json::json!({"note": "say \"hi\"\n", "token": tok}).to_string();
            let at = b64_pos(json.find(tok).unwrap());
            (STANDARD.encode(&json), at, vec!["base64"])
        }
        Layer::Base64OfBase64 => (
            STANDARD.encode(STANDARD.encode(tok)),
            0,
            vec!["base64", "base64"],
        ),
    }
}

/// Random surrounding text: words, punctuation, line breaks, base64 runs.
fn filler() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[A-Za-z0-9+/=_ .,:;\"'{}()\\[\\]#\\-\n\t]{0,200}").unwrap()
}

/// Base64url characters glued to the encoded text.
fn glue() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[A-Za-z0-9_-]{0,5}").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn an_embedded_token_is_found_in_every_layer(
        layer in proptest::sample::select(LAYERS),
        before in filler(),
        after in filler(),
        glue_before in glue(),
        glue_after in glue(),
    ) {
        let tok = token();
        let (enc, at, steps) = encode(layer, tok);
        // A YAML manifest starts and ends on lines of its own.
        let (before, glue_before, glue_after) = match layer {
            Layer::YamlSecretWrapped76 => (format!("{before}\n"), String::new(), String::new()),
            _ => (before, glue_before, glue_after),
        };
        let text = format!("{before}{glue_before}{enc}{glue_after}{after}");
        let anchor = before.len() + glue_before.len() + at;
        let line = text[..anchor].matches('\n').count() + 1;
        let column = anchor - text[..anchor].rfind('\n').map_or(0, |p| p + 1) + 1;
        let found = Scanner::builder()
            .now(1_735_689_600)
            .build()
            .unwrap()
            .scan_bytes(text.as_bytes(), &Origin::path("embedded.txt"));
        let hit = found.iter().find(|f| {
            f.rule_id == "k8s-sa-token-legacy" && f.secret.expose().starts_with(tok)
        });
        prop_assert!(hit.is_some(), "{layer:?}: not found in {text:?}: {found:?}");
        let f = hit.unwrap();
        prop_assert_eq!((f.line, f.column), (line, column), "{:?} in {:?}", layer, text);
        prop_assert_eq!(&f.decoded_from, &steps);
        let t = f.token.as_ref().unwrap();
        prop_assert_eq!(t.namespace.as_deref(), Some("prop-ns"));
        prop_assert_eq!(t.service_account.as_deref(), Some("prop-sa"));
    }
}
