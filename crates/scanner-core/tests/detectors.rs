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
        // Opaque tokens, passwords and bootstrap tokens have no signature to make real.
        other => structural(other),
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
            assert!(
                e.markers_known(),
                "{}: unknown marker in {}",
                d.name,
                e.path
            );
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

#[test]
fn the_examples_leave_no_credential_in_leakscans_own_binary() {
    // The examples are compiled into leakscan; rendered only when checked, they must not
    // make a scan of the binary (in /usr/local/bin, in an image) report anything.
    let mut text = String::new();
    for d in DETECTORS {
        for e in d.examples {
            text.push_str(e.text);
            text.push('\0');
        }
    }
    let found = Scanner::new().scan_bytes(text.as_bytes(), &scanner_core::Origin::path("leakscan"));
    assert!(found.is_empty(), "{found:?}");
    for m in MARKERS {
        assert!(!structural(m).contains("{{"), "{m} has no structural value");
    }
}
