//! Decoder abuse from the hostile-input trial (issue 11): nested encodings the README
//! promises, credentials deep inside long base64 runs at every byte alignment, and a decode
//! budget that is reported when it runs out instead of silently scanning less.

mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rand::{RngCore, SeedableRng};
use scanner_core::{Finding, Origin, Scanner, Sink};

fn scanner() -> Scanner {
    Scanner::builder().now(1_735_689_600).build().unwrap()
}

fn scan(text: &str) -> Vec<Finding> {
    scanner().scan_bytes(text.as_bytes(), &Origin::path("x"))
}

fn claims(f: &Finding) -> (Option<&str>, Option<&str>) {
    let t = f.token.as_ref().expect("token details");
    (t.namespace.as_deref(), t.service_account.as_deref())
}

/// Where base64 text starts carrying decoded byte `d` (relative to the encoded text).
fn b64_pos(d: usize) -> usize {
    d / 3 * 4 + d % 3
}

#[test]
fn item5_secret_token_base64_encoded_twice() {
    let tok = common::legacy_token("payments", "deployer", "deployer-token-7xk2p");
    let value = STANDARD.encode(STANDARD.encode(&tok));
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: deployer-token-7xk2p\n  namespace: payments\ntype: kubernetes.io/service-account-token\ndata:\n  token: {value}\n"
    );
    let f = scan(&text);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule_id, "k8s-sa-token-legacy");
    assert_eq!((f[0].line, f[0].column), (8, 10));
    assert_eq!(f[0].decoded_from, vec!["base64", "base64"]);
    assert_eq!(f[0].secret.expose(), tok);
    assert_eq!(claims(&f[0]), (Some("payments"), Some("deployer")));
}

#[test]
fn item5_base64_of_json_holding_base64_of_a_token() {
    let tok = common::legacy_token("ci", "runner", "runner-token-q8v4d");
    let json = serde_json::json!({"cfg": STANDARD.encode(&tok)}).to_string();
    let blob = STANDARD.encode(&json);
    let prefix = "time=2025-01-02T03:04:05Z level=info msg=\"loaded settings\" blob=";
    let f = scan(&format!("{prefix}{blob}\n"));
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule_id, "k8s-sa-token-legacy");
    assert_eq!(f[0].decoded_from, vec!["base64", "base64"]);
    // The token's first byte is the first byte of the inner base64, 8 bytes into the JSON.
    let inner = json.find("ZXlK").unwrap();
    assert_eq!(
        (f[0].line, f[0].column),
        (1, prefix.len() + b64_pos(inner) + 1)
    );
    assert_eq!(claims(&f[0]), (Some("ci"), Some("runner")));
}

#[test]
fn item5_three_levels_url_safe_unpadded() {
    // base64url(json({"cfg": base64(base64(token))})): exactly the three levels promised.
    let tok = common::legacy_token("ops", "backup", "backup-token-m2n3b");
    let json = serde_json::json!({"cfg": STANDARD.encode(STANDARD.encode(&tok))}).to_string();
    let blob = URL_SAFE_NO_PAD.encode(&json);
    let f = scan(&format!("settings:\n  blob: {blob}\n"));
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].decoded_from, vec!["base64", "base64", "base64"]);
    let inner = json.find("WlhsS").unwrap();
    assert_eq!((f[0].line, f[0].column), (2, 9 + b64_pos(inner)));
    assert_eq!(claims(&f[0]), (Some("ops"), Some("backup")));
}

/// A base64 run of `before` random bytes, a line holding `tok`, and random bytes after it;
/// returns the encoded run and the decoded offset of the token.
fn long_run(before: usize, tok: &str, seed: u64) -> (String, usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut blob = vec![0u8; before];
    rng.fill_bytes(&mut blob);
    blob.extend_from_slice(b"\nAuthorization: Bearer ");
    let at = blob.len();
    blob.extend_from_slice(tok.as_bytes());
    let mut tail = vec![0u8; 4096];
    rng.fill_bytes(&mut tail);
    blob.push(b'\n');
    blob.extend_from_slice(&tail);
    (STANDARD.encode(&blob), at)
}

#[test]
fn item6_token_deep_in_one_base64_run_at_every_alignment() {
    let tok = common::legacy_token("storage", "snapshotter", "snapshotter-token-z9");
    for align in 0..3 {
        // More than 768 KiB decoded (1 MiB encoded) before the token, at offset ≡ align (mod 3).
        let mut before = 900 * 1024;
        let (mut run, mut at) = long_run(before, &tok, align as u64);
        while at % 3 != align {
            before += 1;
            (run, at) = long_run(before, &tok, align as u64);
        }
        let text = format!("kind: Secret\ndata:\n  backup.bin: {run}\n");
        let f = scan(&text);
        let found: Vec<_> = f.iter().filter(|f| f.secret.expose() == tok).collect();
        assert_eq!(found.len(), 1, "alignment {align}: {f:?}");
        assert_eq!(found[0].rule_id, "k8s-sa-token-legacy");
        assert_eq!(found[0].decoded_from, vec!["base64"]);
        assert_eq!(
            (found[0].line, found[0].column),
            (3, 15 + b64_pos(at)),
            "alignment {align}"
        );
        assert_eq!(claims(found[0]), (Some("storage"), Some("snapshotter")));
    }
}

#[test]
fn item6_token_deep_in_a_run_split_into_stream_chunks_at_every_alignment() {
    // Streamed in chunks smaller than the run: every chunk after the first begins inside
    // the run, at whatever alignment the chunk boundary falls.
    let tok = common::legacy_token("storage", "snapshotter", "snapshotter-token-z9");
    let scanner = Scanner::builder()
        .now(1_735_689_600)
        .chunk_size(2 * scanner_core::CHUNK_OVERLAP)
        .build()
        .unwrap();
    for align in 0..3 {
        let mut before = 700 * 1024 + 5;
        let (mut run, mut at) = long_run(before, &tok, 10 + align as u64);
        while at % 3 != align {
            before += 1;
            (run, at) = long_run(before, &tok, 10 + align as u64);
        }
        let text = format!("blob: {run}\n");
        let mut found = Vec::new();
        scanner
            .scan_reader(text.as_bytes(), &Origin::path("dump.yaml"), &mut found)
            .unwrap();
        let found: Vec<_> = found.iter().filter(|f| f.secret.expose() == tok).collect();
        assert_eq!(found.len(), 1, "alignment {align}");
        assert_eq!(found[0].column, 7 + b64_pos(at), "alignment {align}");
    }
}

/// Records what a scan reports besides findings.
#[derive(Default)]
struct Recorder {
    findings: Vec<Finding>,
    incomplete: Vec<(String, String)>,
}

impl Sink for Recorder {
    fn finding(&mut self, f: Finding) {
        self.findings.push(f);
    }
    fn incomplete(&mut self, kind: scanner_core::Problem, message: &str) {
        self.incomplete
            .push((kind.as_str().to_owned(), message.to_owned()));
    }
}

#[test]
fn item6_an_exhausted_decode_budget_is_reported_not_silent() {
    let first = common::legacy_token("a", "one", "one-token-aaaaa");
    let second = common::legacy_token("b", "two", "two-token-bbbbb");
    let text = format!(
        "data:\n  a: {}\n  b: {}\n",
        STANDARD.encode(&first),
        STANDARD.encode(&second)
    );
    // Room for the first token's decoded text, not for both.
    let scanner = Scanner::builder()
        .decode_budget(first.len() + 100)
        .build()
        .unwrap();
    let mut rec = Recorder::default();
    scanner.scan_bytes_with(text.as_bytes(), &Origin::path("s.yaml"), &mut rec);
    assert_eq!(rec.findings.len(), 1);
    assert_eq!(rec.findings[0].secret.expose(), first);
    assert_eq!(rec.incomplete.len(), 1, "{:?}", rec.incomplete);
    assert_eq!(rec.incomplete[0].0, "decode-budget");
    // The default budget decodes both, and reports nothing.
    let mut rec = Recorder::default();
    scanner_core::Scanner::new().scan_bytes_with(text.as_bytes(), &Origin::path("s"), &mut rec);
    assert_eq!(rec.findings.len(), 2);
    assert!(rec.incomplete.is_empty());
}

#[test]
fn item6_megabytes_of_nested_base64_stay_within_the_default_budget() {
    // Three levels of base64 over 6 MiB: the default budget (linear in the input) is enough
    // for all of it, so a token at the very end is found and nothing is reported.
    let tok = common::legacy_token("deep", "last", "last-token-ccccc");
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let mut inner = vec![0u8; 3 << 20];
    rng.fill_bytes(&mut inner);
    let mut layer = STANDARD.encode(&inner);
    layer.push_str(&format!(" {tok} "));
    let text = format!(
        "x: {}\n",
        STANDARD.encode(format!("apiVersion: v1\n{layer}"))
    );
    let mut rec = Recorder::default();
    scanner().scan_bytes_with(text.as_bytes(), &Origin::path("x"), &mut rec);
    assert!(rec.incomplete.is_empty(), "{:?}", rec.incomplete);
    assert!(
        rec.findings.iter().any(|f| f.secret.expose() == tok),
        "{:?}",
        rec.findings.len()
    );
}

#[test]
fn item10_keyword_dense_yaml_keeps_every_finding_and_no_false_one() {
    // Thousands of indented `password:` / `token:` lines outside any kubeconfig user (the
    // denial-of-service input), then a real kubeconfig user: only that one is a finding.
    let mut text = String::from("settings:\n");
    for i in 0..20_000 {
        text.push_str(&format!(
            "  password: s3cr3t-{i:08x}\n  token: t0k3n-{i:08x}-abcdef\n"
        ));
    }
    let lines_before = text.matches('\n').count();
    text.push_str("users:\n- name: admin\n  user:\n    password: Adm1n-Passw0rd-2024\n");
    text.push_str(&"ZXlK\nLS0tLS1CRUdJT\nYXBpVmVyc2lvb\neyJ\n".repeat(20_000));
    text.push_str("  user:\n    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c\n");
    let f = scan(&text);
    let got: Vec<_> = f
        .iter()
        .map(|f| (f.rule_id.as_str(), f.line, f.column, f.secret.expose()))
        .collect();
    let last = text.matches('\n').count();
    assert_eq!(
        got,
        vec![
            (
                "kubeconfig-password",
                lines_before + 4,
                15,
                "Adm1n-Passw0rd-2024"
            ),
            (
                "kubeconfig-token",
                last,
                12,
                "8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c"
            ),
        ]
    );
}
