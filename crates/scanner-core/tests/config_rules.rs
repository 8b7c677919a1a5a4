//! leakscan.toml through the library: custom rules go through the prefilter (keyword hit →
//! regex, case-insensitive keywords, entropy, secret group), allowlists and stopwords
//! suppress and are counted, built-in rules can be disabled or re-severitied, and every
//! invalid file is an error naming file:line:column.

mod common;

use std::path::Path;

use scanner_core::config::{Config, ConfigFormat};
use scanner_core::{Error, Finding, Origin, Scanner, Severity};

/// 2025-01-01T00:00:00Z.
const NOW: i64 = 1_735_689_600;

fn scanner(toml: &str) -> common::Counted {
    let cfg = Config::parse(toml, Path::new("leakscan.toml")).expect("valid config");
    assert_eq!(cfg.format(), ConfigFormat::Leakscan);
    common::Counted::new(Scanner::builder().now(NOW).config(cfg).build().unwrap())
}

fn positions(f: &[Finding]) -> Vec<(&str, usize, usize, &str)> {
    f.iter()
        .map(|f| (f.rule_id.as_str(), f.line, f.column, f.secret.expose()))
        .collect()
}

fn testdata(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const DEPLOY_RULE: &str = r#"
[[custom]]
id = "acme-deploy-token"
description = "ACME deploy token"
regex = '\b[0-9a-f]{40}\b'
keywords = ["deploy_token"]
severity = "critical"
"#;

const HEX_A: &str = "3f9c1e7a5b2d8f4c6e0a9b1d3c5e7f2a4b6c8d0e";
const HEX_B: &str = "8e2b4d6f1a3c5e7092b4d6f8a1c3e5f7092b4d6e";

#[test]
fn a_keyword_hit_triggers_the_regex_and_keywords_ignore_case() {
    let s = scanner(DEPLOY_RULE);
    // The same 40-hex value on a line far from any keyword is not a finding: without a
    // keyword hit the regex never runs there.
    let filler = "# release notes, nothing secret here\n".repeat(400);
    let text = format!(
        "build_sha = {HEX_B}\n{filler}deploy_token = {HEX_A}\n{filler}export DEPLOY_TOKEN=\"{HEX_B}\"\n"
    );
    let f = s.scan_bytes(text.as_bytes(), &Origin::path("ci/vars.sh"));
    assert_eq!(
        positions(&f),
        vec![
            ("acme-deploy-token", 402, 16, HEX_A),
            ("acme-deploy-token", 803, 22, HEX_B),
        ]
    );
    assert_eq!(f[0].severity, Severity::Critical);
    assert_eq!(f[0].description, "ACME deploy token");
    assert_eq!(f[0].end_column, 16 + 40);
    // A rule without keywords searches everything (slower, but no hit can be missed).
    let s = scanner(
        r#"
[[custom]]
id = "any-hex40"
regex = '\b[0-9a-f]{40}\b'
"#,
    );
    let f = s.scan_bytes(text.as_bytes(), &Origin::path("ci/vars.sh"));
    let lines: Vec<usize> = f.iter().map(|f| f.line).collect();
    assert_eq!(lines, vec![1, 402, 803]);
    assert_eq!(
        f[0].severity,
        Severity::High,
        "custom rules default to high"
    );
}

#[test]
fn entropy_threshold_rejects_low_entropy_values() {
    let s = scanner(
        r#"
[[custom]]
id = "acme-api-key"
regex = 'acme_[a-z0-9]{32}'
keywords = ["acme_"]
secret_group = 0
entropy = 3.0
"#,
    );
    let text = "good: acme_k3x9q7w2m5z8r1t4y6u0p2s5d7f9g1h3\n\
                placeholder: acme_00000000000000000000000000000000\n\
                repeated: acme_abababababababababababababababab\n";
    let f = s.scan_bytes(text.as_bytes(), &Origin::path("app.yaml"));
    assert_eq!(
        positions(&f),
        vec![(
            "acme-api-key",
            1,
            7,
            "acme_k3x9q7w2m5z8r1t4y6u0p2s5d7f9g1h3"
        )]
    );
    // Rejected by entropy, not allowed by the user: nothing counts as suppressed.
    assert_eq!(s.suppressed(), 0);
}

#[test]
fn secret_group_picks_the_secret_and_its_position() {
    let s = scanner(
        r#"
[[custom]]
id = "acme-token"
regex = '(?i)(acme)[_-]?(?:key|token)\s*[:=]\s*"?([A-Za-z0-9]{24})'
keywords = ["acme"]
secret_group = 2
"#,
    );
    let text = "[service]\nACME_TOKEN = \"Q7wE9rT2yU4iO6pA8sD0fG1h\"\n";
    let f = s.scan_bytes(text.as_bytes(), &Origin::path("svc.ini"));
    assert_eq!(
        positions(&f),
        vec![("acme-token", 2, 15, "Q7wE9rT2yU4iO6pA8sD0fG1h")]
    );
    // Without secret_group the first non-empty group is the secret (as in gitleaks).
    let s = scanner(
        r#"
[[custom]]
id = "acme-token"
regex = '(?i)(acme)[_-]?(?:key|token)\s*[:=]\s*"?([A-Za-z0-9]{24})'
keywords = ["acme"]
"#,
    );
    let f = s.scan_bytes(text.as_bytes(), &Origin::path("svc.ini"));
    assert_eq!(positions(&f), vec![("acme-token", 2, 1, "ACME")]);
}

#[test]
fn custom_rules_find_secrets_across_stream_chunks_once() {
    let s = Scanner::builder()
        .config(Config::parse(DEPLOY_RULE, Path::new("leakscan.toml")).unwrap())
        .chunk_size(256 * 1024)
        .build()
        .unwrap();
    // ~1.2 MB with a token every ~10 KB: several chunk boundaries cut through the file.
    let mut text = String::new();
    let mut expected = 0;
    while text.len() < 1_200_000 {
        text.push_str(&"log line without anything interesting in it\n".repeat(230));
        text.push_str(&format!("deploy_token: {HEX_A}\n"));
        expected += 1;
    }
    let whole = s.scan_bytes(text.as_bytes(), &Origin::path("big.log"));
    let mut streamed = Vec::new();
    s.scan_reader(text.as_bytes(), &Origin::path("big.log"), &mut streamed)
        .unwrap();
    assert_eq!(whole.len(), expected);
    let key = |f: &Finding| (f.line, f.column, f.byte_offset);
    assert_eq!(
        streamed.iter().map(key).collect::<Vec<_>>(),
        whole.iter().map(key).collect::<Vec<_>>()
    );
}

#[test]
fn path_allowlist_value_regexes_and_stopwords_suppress_and_are_counted() {
    let s = scanner(&format!(
        r#"
[allowlist]
paths = ["fixtures/**", "**/*.md"]
regexes = ["EXAMPLE"]
stopwords = ["dummy"]
{DEPLOY_RULE}"#
    ));
    let real = format!("deploy_token = {HEX_A}\n");
    let origin = |p: &str| Origin::path(p);
    // Globs match the reported path or any trailing part of it.
    assert!(s
        .scan_bytes(real.as_bytes(), &origin("repo/fixtures/ci.env"))
        .is_empty());
    assert!(s
        .scan_bytes(real.as_bytes(), &origin("docs/setup.md"))
        .is_empty());
    assert_eq!(s.suppressed(), 2);
    assert_eq!(
        s.scan_bytes(real.as_bytes(), &origin("ci/fixtures.env"))
            .len(),
        1
    );
    // Value allowlists apply to built-in rules too: a kubeconfig token.
    let kube = |v: &str| format!("users:\n- name: ci\n  user:\n    token: {v}\n");
    let f = s.scan_bytes(
        kube("EXAMPLEd4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c").as_bytes(),
        &origin("kubeconfig"),
    );
    assert!(f.is_empty());
    let f = s.scan_bytes(
        kube("8d4f1c7a9e2b6DUMMYf3d0a5c8e1b7f4d2a9c").as_bytes(),
        &origin("kubeconfig"),
    );
    assert!(f.is_empty(), "stopwords match case-insensitively");
    assert_eq!(s.suppressed(), 4);
    let f = s.scan_bytes(
        kube("8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c").as_bytes(),
        &origin("kubeconfig"),
    );
    assert_eq!(positions(&f)[0].0, "kubeconfig-token");
    assert_eq!(s.suppressed(), 4);
}

#[test]
fn disabling_a_builtin_rule_and_changing_a_severity() {
    let s = scanner(
        r#"
[rules.jwt]
enabled = false
[rules.kubeconfig-password]
severity = "low"
[rules.k8s-sa-token-bound]
severity = "critical"
"#,
    );
    let f = s.scan_bytes(&testdata("env/app.env"), &Origin::path("env/app.env"));
    // app.env holds a bound service-account token and an application JWT; the JWT rule is off.
    assert_eq!(
        f.iter()
            .map(|f| (f.rule_id.as_str(), f.line, f.severity))
            .collect::<Vec<_>>(),
        vec![("k8s-sa-token-bound", 4, Severity::Critical)]
    );
    assert_eq!(s.suppressed(), 1);
    let f = s.scan_bytes(
        &testdata("kubeconfig/admin.kubeconfig"),
        &Origin::path("admin.kubeconfig"),
    );
    let pw: Vec<_> = f
        .iter()
        .filter(|f| f.rule_id == "kubeconfig-password")
        .collect();
    assert_eq!((pw[0].line, pw[0].severity), (29, Severity::Low));
    let token = f.iter().find(|f| f.rule_id == "kubeconfig-token").unwrap();
    assert_eq!(token.severity, Severity::High, "other rules keep theirs");
}

#[test]
fn per_rule_allowlist_with_line_target() {
    let s = scanner(&format!(
        r#"{DEPLOY_RULE}
[custom.allowlist]
regexes = ['^\s*#']
regex_target = "line"
"#
    ));
    let text = format!("# deploy_token = {HEX_A}\ndeploy_token = {HEX_B}\n");
    let f = s.scan_bytes(text.as_bytes(), &Origin::path("ci.env"));
    assert_eq!(positions(&f), vec![("acme-deploy-token", 2, 16, HEX_B)]);
    assert_eq!(s.suppressed(), 1);
}

/// `(line, column, message)` of a config error.
fn config_error(toml: &str) -> (usize, usize, String) {
    match Config::parse(toml, Path::new("conf/leakscan.toml")) {
        Err(Error::Config {
            path,
            line,
            column,
            message,
        }) => {
            assert_eq!(path, Path::new("conf/leakscan.toml"));
            (line, column, message)
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn invalid_configs_name_line_and_column() {
    // Bad TOML syntax: a misspelt boolean, and a missing comma.
    let (l, c, m) = config_error("[rules.jwt]\nenabled = flase\n");
    assert_eq!((l, c), (2, 11), "{m}");
    assert!(m.contains("invalid boolean"), "{m}");
    let (l, c, m) = config_error("[allowlist]\nstopwords = [\"a\" \"b\"]\n");
    assert_eq!((l, c), (2, 18), "{m}");
    // Unknown key (a typo of `enabled`).
    let (l, c, m) = config_error("[rules.jwt]\nenabeld = false\n");
    assert_eq!((l, c), (2, 1), "{m}");
    assert!(m.contains("unknown field `enabeld`"), "{m}");
    // Bad regex in a custom rule: the regex's value.
    let (l, c, m) =
        config_error("[[custom]]\nid = \"x\"\nkeywords = [\"x\"]\nregex = '(?<=x)[a-z]{8}'\n");
    assert_eq!((l, c), (4, 9), "{m}");
    assert!(
        m.starts_with("invalid regex: ") && m.contains("look-around"),
        "{m}"
    );
    // Bad regex in an allowlist.
    let (l, c, m) = config_error("[allowlist]\nregexes = [\"ok\", \"(unclosed\"]\n");
    assert_eq!((l, c), (2, 18), "{m}");
    // Bad glob.
    let (l, c, m) = config_error("[allowlist]\npaths = [\"docs/**\", \"src/[a-\"]\n");
    assert_eq!((l, c), (2, 21), "{m}");
    assert!(m.starts_with("invalid glob"), "{m}");
    // Bad severity.
    let (l, c, m) = config_error("[rules.kubeconfig-token]\nseverity = \"urgent\"\n");
    assert_eq!((l, c), (2, 12), "{m}");
    assert!(m.contains("unknown severity \"urgent\""), "{m}");
    // Unknown rule id, a custom id that shadows a built-in, a missing secret group.
    let (l, c, _) = config_error("\n[rules.kubeconfig-tokens]\nenabled = false\n");
    assert_eq!((l, c), (2, 8));
    let (l, c, m) = config_error("[[custom]]\nid = \"jwt\"\nregex = 'x'\n");
    assert_eq!((l, c, m.contains("built-in")), (2, 6, true));
    let (l, c, _) = config_error("[[custom]]\nid = \"y\"\nregex = 'y(z)'\nsecret_group = 2\n");
    assert_eq!((l, c), (4, 16));
}

#[test]
fn load_reads_the_file_and_names_it_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leakscan.toml");
    std::fs::write(&path, "[allowlist]\nstopwords = [\"dummy\"]\nbogus = 1\n").unwrap();
    let err = Config::load(&path).unwrap_err();
    assert_eq!(err.to_string(), format!("{}:3:1: unknown field `bogus`, expected one of `paths`, `regexes`, `regex_target`, `stopwords`, `commits`, `condition`", path.display()));
    let missing = dir.path().join("nope.toml");
    assert!(matches!(Config::load(&missing), Err(Error::Io { .. })));
}
