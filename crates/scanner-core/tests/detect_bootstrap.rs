//! Issue 9 item 2: bootstrap tokens in every context kubeadm and its tooling print or read.
//! The contexts are the bootstrap detector's examples (tests/detectors.rs runs them); here
//! each gets negative twins holding a documentation token or a rearrangement of one.

use scanner_core::rules::detector::DETECTORS;
use scanner_core::{Finding, Origin, Scanner};

fn scan(path: &str, text: &str) -> Vec<Finding> {
    Scanner::builder()
        .now(1_735_689_600)
        .build()
        .expect("scanner")
        .scan_bytes(text.as_bytes(), &Origin::path(path))
}

#[test]
fn documentation_examples_and_rearrangements_are_silent_everywhere() {
    let bootstrap = DETECTORS
        .iter()
        .find(|d| d.name == "bootstrap")
        .expect("bootstrap detector");
    let positives: Vec<_> = bootstrap
        .examples
        .iter()
        .filter(|e| !e.expect.is_empty())
        .collect();
    assert!(positives.len() >= 10, "{} contexts", positives.len());
    for dummy in [
        "abcdef.0123456789abcdef",
        "07401b.f395accd246ae52d",
        "abcdef.1234567890abcdef",
        "123456.abcdef0123456789",
    ] {
        for ex in &positives {
            assert!(ex.text.contains("{{bootstrap-token"), "{}", ex.path);
            let text = ex.render(&mut |_| dummy.to_owned()).text;
            let found = scan(ex.path, &text);
            assert!(found.is_empty(), "{} with {dummy}: {found:?}", ex.path);
        }
    }
}

#[test]
fn a_dotted_word_under_a_token_key_is_not_a_bootstrap_token() {
    // Same shape only in part, or glued to more text: version strings, hostnames.
    for text in [
        "token: x7k2p9.m4n5q8r1s3t6v9w2x\n",
        "TOKEN=release.2024-05-01\n",
        "access_token = \"x7k2p9.m4n5q8r1s3t6v9w2.sig\"\n",
        "--token-ttl 24h0m0s\n",
    ] {
        assert!(scan("x.txt", text).is_empty(), "{text}");
    }
}

/// The public token id (what `leakscan audit` looks for as `system:bootstrap:ID`) is carried
/// on its own; the secret half is not, and a lone `token-secret` has no id to carry.
#[test]
fn a_bootstrap_finding_carries_its_public_id_only() {
    let f = scan(
        "join.sh",
        "kubeadm join 10.0.0.1:6443 --token x7k2p9.m4n5q8r1s3t6v9w2 \\\n  --discovery-token-ca-cert-hash sha256:1f\n",
    );
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].token_id.as_deref(), Some("x7k2p9"));
    let json = serde_json::to_string(&f[0]).unwrap();
    assert!(json.contains(r#""token_id":"x7k2p9""#), "{json}");
    assert!(!json.contains("m4n5q8r1s3t6v9w2"), "{json}");

    let lone = scan(
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\ntype: bootstrap.kubernetes.io/token\nstringData:\n  token-secret: m4n5q8r1s3t6v9w2\n",
    );
    assert_eq!(lone.len(), 1, "{lone:?}");
    assert_eq!(lone[0].token_id, None);
}
