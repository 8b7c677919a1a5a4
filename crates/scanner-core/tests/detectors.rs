//! Every detector's examples (`rules::detector`), rendered with really signed tokens and a
//! real RSA key: each context must give exactly the findings it names (rule, line, secret,
//! and the column where the secret is written out), each look-alike none.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use scanner_core::rules::detector::{structural, DETECTORS, MARKERS};
use scanner_core::Scanner;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// Real credentials for an example's markers.
fn signed(name: &str) -> String {
    match name {
        "legacy-jwt" => common::legacy_token("ci", "deployer", "deployer-token-m4n8z"),
        "bound-jwt" => common::bound_token(
            "apps",
            "api",
            "api-7d9f8c6b5-x2k4q",
            "https://kubernetes.default.svc.cluster.local",
            now() - 600,
            3600,
        ),
        "jwt" => common::app_jwt(),
        "private-key" => common::keys().rsa.private_pem.trim_end().to_owned(),
        other => panic!("no credential for marker {other}"),
    }
}

#[test]
fn every_detector_example_gives_what_it_expects() {
    let scanner = Scanner::new();
    let (total, failures) = scanner.check_examples(&mut signed);
    let report: Vec<String> = failures
        .iter()
        .map(|f| format!("{} #{} ({}): {}", f.detector, f.index, f.path, f.problem))
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
    assert!(total >= 30, "{total} examples");
}

#[test]
fn the_self_check_passes_with_structural_credentials_too() {
    // What `leakscan rules --check` renders with: no key generation, same outcome.
    let (_, failures) = Scanner::new().check_examples(&mut |n: &str| structural(n));
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn every_detector_has_positive_and_negative_examples_for_its_rules() {
    for d in DETECTORS {
        let reported: Vec<&str> = d
            .examples
            .iter()
            .flat_map(|e| e.expect.iter().map(|x| x.rule))
            .collect();
        for rule in d.rules {
            assert!(
                reported.contains(rule),
                "{}: no example reports {rule}",
                d.name
            );
        }
        assert!(
            d.examples.iter().any(|e| e.expect.is_empty()),
            "{}: no negative example",
            d.name
        );
        for e in d.examples {
            for m in e.text.match_indices("{{").map(|(i, _)| &e.text[i..]) {
                let name = m.trim_start_matches("{{").trim_start_matches("b64:");
                let known = MARKERS
                    .iter()
                    .any(|k| name.starts_with(&format!("{k}}}}}")));
                // Helm templates (`{{ .Values… }}`) are text, not markers.
                assert!(
                    known || m.starts_with("{{ "),
                    "{}: unknown marker in {m:.30}",
                    d.name
                );
            }
        }
    }
}

#[test]
fn a_broken_expectation_is_reported() {
    // The check itself can fail: a token example scanned where it expects nothing.
    use scanner_core::rules::detector::Example;
    let ex = Example {
        path: "x.txt",
        text: "token: {{legacy-jwt}}\n",
        expect: &[],
    };
    let err = Scanner::new()
        .check_example(&ex, &mut |n: &str| structural(n))
        .expect_err("a finding where none is expected");
    assert!(err.contains("k8s-sa-token-legacy@1"), "{err}");
    assert!(
        !err.contains(&structural("legacy-jwt")),
        "secret printed: {err}"
    );
}
