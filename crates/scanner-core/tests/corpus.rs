//! The real-world corpus (issue 9 item 7) against `testdata/corpus/expectations.toml`: every
//! snippet is scanned and compared with what should be found. Known misses and false
//! positives are listed there with the issue item that fixes them; a new miss, a new false
//! positive or a known gap that starts passing fails. `--nocapture` prints the table.

mod common;
mod corpus_support;

use std::collections::BTreeSet;

use scanner_core::Scanner;

#[test]
fn corpus_matches_expectations() {
    let (rows, failures) = corpus_support::run();
    println!("{}", corpus_support::table(&rows));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_snippet_is_listed_once_with_a_source_and_enough_negatives() {
    let exp = corpus_support::load();
    let root = corpus_support::root();
    let mut on_disk = BTreeSet::new();
    for ctx in std::fs::read_dir(&root).unwrap() {
        let ctx = ctx.unwrap().path();
        if ctx.is_dir() {
            for f in std::fs::read_dir(&ctx).unwrap() {
                let p = f.unwrap().path();
                on_disk.insert(
                    p.strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let listed: Vec<&str> = exp.snippet.iter().map(|s| s.file.as_str()).collect();
    let unique: BTreeSet<String> = listed.iter().map(|s| s.to_string()).collect();
    assert_eq!(unique.len(), listed.len(), "a snippet is listed twice");
    assert_eq!(unique, on_disk, "snippet files and expectations differ");
    for s in &exp.snippet {
        assert!(
            s.source.starts_with("github:") || s.source.starts_with("https://"),
            "{}: source {:?}",
            s.file,
            s.source
        );
        assert_eq!(
            s.file.split('/').next(),
            Some(s.context.as_str()),
            "{}",
            s.file
        );
    }
    assert!(exp.snippet.len() >= 80, "{} snippets", exp.snippet.len());
    let negatives = exp.snippet.iter().filter(|s| s.findings.is_empty()).count();
    assert!(negatives >= 25, "{negatives} negatives");
}

#[test]
fn expected_rule_ids_exist_unless_marked_as_a_gap() {
    let known: BTreeSet<&str> = scanner_core::rules::BUILTIN_RULES
        .iter()
        .map(|r| r.id)
        .collect();
    for s in corpus_support::load().snippet {
        for e in s.findings.iter().chain(&s.known_extra) {
            assert!(
                known.contains(e.rule_id.as_str()) || e.known_gap.is_some(),
                "{}: unknown rule id {} without a known_gap",
                s.file,
                e.rule_id
            );
        }
    }
}

#[test]
fn substituted_snippets_store_no_credential() {
    // Templates carry markers only: what is committed must not itself be a finding.
    let scanner = Scanner::new();
    for s in corpus_support::load()
        .snippet
        .iter()
        .filter(|s| s.substituted)
    {
        let raw = std::fs::read(corpus_support::root().join(&s.file)).unwrap();
        let f = scanner.scan_bytes(&raw, &scanner_core::Origin::path(&s.file));
        assert!(f.is_empty(), "{}: the stored template has findings", s.file);
    }
}
