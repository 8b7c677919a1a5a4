//! Fingerprints are stable across scanners and runs but do not let a reader of a report or
//! baseline confirm a guessed secret (issue 11 item 12).

mod common;

use scanner_core::baseline::Baseline;
use scanner_core::{Finding, Origin, Scanner};

fn kubeconfig_password(pw: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    username: admin\n    password: {pw}\n"
    )
}

fn scan(s: &Scanner, text: &str) -> Finding {
    let mut f = s.scan_bytes(text.as_bytes(), &Origin::path(".kube/config"));
    assert_eq!(f.len(), 1, "{f:?}");
    f.remove(0)
}

/// What leakscan 0.1 published and an attacker would compute for each guess.
fn unkeyed_guess(rule: &str, guess: &str, path: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in [rule, guess, path] {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_weak_password_is_not_confirmed_by_a_cheap_guess() {
    let f = scan(&Scanner::new(), &kubeconfig_password("hunter2"));
    assert_eq!(f.rule_id, "kubeconfig-password");
    assert!(scanner_core::guessable("hunter2"));
    assert_ne!(f.fingerprint, unkeyed_guess(&f.rule_id, "hunter2", &f.path));
    assert_eq!(f.fingerprint.len(), 32);
    // Stable across scanners (machines, runs) without any key.
    assert_eq!(
        f.fingerprint,
        scan(&Scanner::new(), &kubeconfig_password("hunter2")).fingerprint
    );
    assert_ne!(
        f.fingerprint,
        scan(&Scanner::new(), &kubeconfig_password("hunter3")).fingerprint
    );
}

#[test]
fn a_key_changes_every_fingerprint_and_the_same_key_reproduces_them() {
    let text = kubeconfig_password("Summer2024!");
    let keyed = |k: &[u8]| {
        scan(
            &Scanner::builder().fingerprint_key(k).build().unwrap(),
            &text,
        )
    };
    let plain = scan(&Scanner::new(), &text);
    let a = keyed(b"0123456789abcdef-team-a");
    assert_ne!(a.fingerprint, plain.fingerprint);
    assert_eq!(a.fingerprint, keyed(b"0123456789abcdef-team-a").fingerprint);
    assert_ne!(a.fingerprint, keyed(b"0123456789abcdef-team-b").fingerprint);
    // The builder's Debug output never shows the key.
    let dbg = format!(
        "{:?}",
        Scanner::builder().fingerprint_key(b"very-secret-key-material")
    );
    assert!(!dbg.contains("very-secret"), "{dbg}");
}

#[test]
fn baselines_written_with_old_fingerprints_still_suppress() {
    let tok = common::legacy_token("ci", "deployer", "deployer-token-x1");
    let text = format!("export TOKEN={tok}\n");
    let f = Scanner::new()
        .scan_bytes(text.as_bytes(), &Origin::path("ci/env.sh"))
        .remove(0);
    let old = format!(
        r#"{{"version": 1, "tool": "leakscan 0.1.0", "findings": [{{"fingerprint": "{}", "rule_id": "{}", "path": "ci/env.sh", "line": 1}}]}}"#,
        unkeyed_guess(&f.rule_id, &tok, "ci/env.sh"),
        f.rule_id
    );
    let b = Baseline::read(old.as_bytes()).unwrap();
    assert!(b.contains(&f));
    // A baseline written now holds the new fingerprint only.
    let mut out = Vec::new();
    Baseline::from_findings([&f]).write(&mut out).unwrap();
    let written = String::from_utf8(out).unwrap();
    assert!(written.contains(&f.fingerprint));
    assert!(!written.contains(&f.legacy_fingerprint()));
}
