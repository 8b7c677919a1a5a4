//! gitleaks-format configs: gitleaks' real default rule set (read from
//! `../shared/thirdparty/gitleaks-default.toml`; the tests that need it skip when it is
//! absent) against realistic samples in `testdata/config/samples/`, and a self-written
//! gitleaks file (`testdata/config/gitleaks-acme.toml`) exercising secretGroup, entropy,
//! path-limited rules, per-rule and global allowlists and rules leakscan has to skip.

mod common;

use std::path::{Path, PathBuf};

use scanner_core::config::{Config, ConfigFormat};
use scanner_core::{Finding, Origin, Scanner};

fn default_config_path() -> Option<PathBuf> {
    common::thirdparty("gitleaks-default.toml")
}

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

fn positions(f: &[Finding]) -> Vec<(&str, usize, usize, &str)> {
    f.iter()
        .map(|f| (f.rule_id.as_str(), f.line, f.column, f.secret.expose()))
        .collect()
}

#[test]
fn default_config_loads_all_but_three_rules_and_says_why() {
    let Some(path) = default_config_path() else {
        return;
    };
    let cfg = Config::load(&path).unwrap();
    assert_eq!(cfg.format(), ConfigFormat::Gitleaks);
    let text = std::fs::read_to_string(&path).unwrap();
    let in_file = text.lines().filter(|l| l.trim() == "[[rules]]").count();
    let skipped: Vec<(&str, &str)> = cfg
        .skipped()
        .iter()
        .map(|s| (s.id.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        vec![
            (
                "jwt",
                "leakscan's built-in rule \"jwt\" already covers it (with structural checks)"
            ),
            (
                "pkcs12-file",
                "path-only rule (matches file names, not content) is not supported"
            ),
            (
                "private-key",
                "leakscan's built-in rule \"private-key\" already covers it (with structural checks)"
            ),
        ]
    );
    // Every regex of the default set compiles (Go's literal `{` is escaped on the way), and
    // every rule is either loaded or listed as skipped.
    assert_eq!(cfg.custom_rules().len(), 219);
    assert_eq!(cfg.custom_rules().len() + skipped.len(), in_file);
    let ids: Vec<String> = cfg.custom_rules().into_iter().map(|r| r.id).collect();
    for id in [
        "aws-access-token",
        "github-pat",
        "slack-bot-token",
        "generic-api-key",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} not loaded");
    }
}

#[test]
fn default_config_finds_realistic_samples_with_gitleaks_semantics() {
    let Some(path) = default_config_path() else {
        return;
    };
    let scanner = common::Counted::new(
        Scanner::builder()
            .config(Config::load(&path).unwrap())
            .build()
            .unwrap(),
    );
    let scan = |rel: &str| {
        let bytes = std::fs::read(testdata(rel)).unwrap();
        scanner.scan_bytes(&bytes, &Origin::path(rel))
    };
    // An AWS access key id in YAML-ish env settings. The generic-api-key rule also matches
    // the line, but its allowlist (`key_id`, regexTarget = match) drops that one.
    let f = scan("config/samples/deploy.env");
    assert_eq!(
        positions(&f),
        vec![("aws-access-token", 4, 20, "AKIAZ7QH3XKD5WN2RT4M")]
    );
    assert_eq!(f[0].end_column, 40);
    assert_eq!(scanner.suppressed(), 1);
    // A GitHub PAT in a curl header: gitleaks' curl rule matches it too.
    let f = scan("config/samples/release.sh");
    let pat = "ghp_R8vT2kLw9QzX4mN7pB1cY6hJ3dF5sA0eUgKi";
    assert_eq!(
        positions(&f),
        vec![("curl-auth-header", 4, 35, pat), ("github-pat", 4, 35, pat)]
    );
    // A Slack bot token in an Alertmanager config (and, as in gitleaks, the generic rule).
    let f = scan("config/samples/alerts.yaml");
    let slack = "xoxb-2048193745-1398237560192-Hq7ZcW3kPm9XrT2vLs8NdYbF";
    assert_eq!(
        positions(&f),
        vec![
            ("generic-api-key", 7, 25, slack),
            ("slack-bot-token", 7, 25, slack)
        ]
    );
    // A generic API key: the secret group is the quoted value; API_VERSION's date has too
    // little entropy, and TIMEOUT_SECONDS no keyword.
    let f = scan("config/samples/settings.py");
    assert_eq!(
        positions(&f),
        vec![("generic-api-key", 5, 21, "9f8Kq2Lw7XzR4tYb6Nc1Vm3Hd5Gs0Jp")]
    );
    assert!(f[0].description.starts_with("Detected a Generic API Key"));
    assert_eq!(scanner.suppressed(), 1);
}

#[test]
fn default_config_global_allowlist_applies_to_builtin_rules_too() {
    let Some(path) = default_config_path() else {
        return;
    };
    let scanner = common::Counted::new(
        Scanner::builder()
            .config(Config::load(&path).unwrap())
            .build()
            .unwrap(),
    );
    let kubeconfig = b"users:\n- name: ci\n  user:\n    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c\n";
    // gitleaks' global path allowlist skips vendored Go modules and node_modules.
    let vendored = "vendor/k8s.io/client-go/testdata/kubeconfig";
    assert!(scanner
        .scan_bytes(kubeconfig, &Origin::path(vendored))
        .is_empty());
    // Both the built-in kubeconfig-token and gitleaks' generic-api-key were dropped.
    assert_eq!(scanner.suppressed(), 2);
    let f = scanner.scan_bytes(kubeconfig, &Origin::path("deploy/kubeconfig"));
    let secret = "8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c";
    assert_eq!(
        positions(&f),
        vec![
            ("generic-api-key", 4, 12, secret),
            ("kubeconfig-token", 4, 12, secret)
        ]
    );
}

fn acme() -> (Config, common::Counted) {
    let cfg = Config::load(&testdata("config/gitleaks-acme.toml")).unwrap();
    let scanner = common::Counted::new(Scanner::builder().config(cfg.clone()).build().unwrap());
    (cfg, scanner)
}

#[test]
fn self_written_gitleaks_file_reports_rules_it_cannot_run() {
    let (cfg, _) = acme();
    assert_eq!(cfg.format(), ConfigFormat::Gitleaks);
    let loaded: Vec<String> = cfg.custom_rules().into_iter().map(|r| r.id).collect();
    assert_eq!(loaded, vec!["acme-api-key", "acme-ticket-token"]);
    let skipped: Vec<(&str, &str)> = cfg
        .skipped()
        .iter()
        .map(|s| (s.id.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 4, "{skipped:?}");
    assert_eq!(skipped[0].0, "acme-session");
    assert!(
        skipped[0].1.starts_with("regex: ") && skipped[0].1.contains("look-around"),
        "{}",
        skipped[0].1
    );
    assert_eq!(skipped[1].0, "acme-quoted-token");
    assert!(
        skipped[1].1.contains("backreferences are not supported"),
        "{}",
        skipped[1].1
    );
    assert_eq!(skipped[2].0, "acme-keystore");
    assert!(skipped[2].1.starts_with("path-only rule"));
    assert_eq!(skipped[3].0, "private-key");
}

#[test]
fn secret_group_entropy_and_case_insensitive_keywords() {
    let (_, scanner) = acme();
    let text = "[acme]\n\
                ACME_API_KEY = \"ACME_K3X9Q7W2M5Z8R1T4Y6U0P2S5D7F9G1H3\"\n\
                acme_key: acme_aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb\n";
    let f = scanner.scan_bytes(text.as_bytes(), &Origin::path("acme.ini"));
    // `(?i)` and the keyword `acme_` both ignore case; the second value is too regular.
    assert_eq!(
        positions(&f),
        vec![(
            "acme-api-key",
            2,
            17,
            "ACME_K3X9Q7W2M5Z8R1T4Y6U0P2S5D7F9G1H3"
        )]
    );
    assert_eq!(f[0].description, "ACME API key");
    assert_eq!(scanner.suppressed(), 0);
}

#[test]
fn path_limited_rule_and_per_rule_and_global_allowlists() {
    let (_, scanner) = acme();
    let tf = "resource \"acme_hook\" \"ci\" {\n  ticket_token = \"Q7WE9RT2YU4IO6PA8SD0\"\n}\n";
    // The rule only looks at Terraform files.
    let f = scanner.scan_bytes(tf.as_bytes(), &Origin::path("infra/main.tf"));
    assert_eq!(
        positions(&f),
        vec![("acme-ticket-token", 2, 19, "Q7WE9RT2YU4IO6PA8SD0")]
    );
    assert!(scanner
        .scan_bytes(tf.as_bytes(), &Origin::path("infra/main.tf.md"))
        .is_empty());
    assert_eq!(scanner.suppressed(), 0, "not applying is not suppressing");
    // [rules.allowlist] stopwords (case-insensitive), global path regexes and stopwords,
    // and a per-rule line allowlist: each suppressed and counted.
    let stop = tf.replace("Q7WE9RT2YU4IO6PA8SD0", "Q7WE9RTESTIO6PA8SD0X");
    assert!(scanner
        .scan_bytes(stop.as_bytes(), &Origin::path("main.tf"))
        .is_empty());
    assert!(scanner
        .scan_bytes(tf.as_bytes(), &Origin::path("test/fixtures/main.tf"))
        .is_empty());
    let key = "acme_key = acme_k3x9q7w2m5z8r1t4y6u0p2s5d7f9g1h3";
    let example = format!("{key} # example value from the docs\n");
    assert!(scanner
        .scan_bytes(example.as_bytes(), &Origin::path("README.txt"))
        .is_empty());
    let dummy = "acme_key = acme_dummyk3x9q7w2m5z8r1t4y6u0p2s5d7f\n";
    assert!(scanner
        .scan_bytes(dummy.as_bytes(), &Origin::path("app.ini"))
        .is_empty());
    assert_eq!(scanner.suppressed(), 4);
    let f = scanner.scan_bytes(format!("{key}\n").as_bytes(), &Origin::path("app.ini"));
    assert_eq!(positions(&f)[0].0, "acme-api-key");
}

#[test]
fn leakscan_toml_extends_the_gitleaks_defaults_and_tunes_them() {
    let Some(default) = default_config_path() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // An absolute `extends` path is used as is (relative ones start at the file's folder,
    // see extends_errors_point_at_the_key).
    let cfg_path = dir.path().join("leakscan.toml");
    std::fs::write(
        &cfg_path,
        format!(
            "extends = {:?}\n\n[rules.generic-api-key]\nenabled = false\n\n\
             [rules.github-pat]\nseverity = \"critical\"\n\n[allowlist]\nstopwords = [\"r8vt2klw\"]\n",
            default.display().to_string()
        ),
    )
    .unwrap();
    let cfg = Config::load(&cfg_path).unwrap();
    assert_eq!(cfg.format(), ConfigFormat::Leakscan);
    assert_eq!(cfg.custom_rules().len(), 219, "the imported rules");
    assert_eq!(
        cfg.skipped().len(),
        3,
        "the base's skipped rules are still reported"
    );
    assert_eq!(
        cfg.severity_override("github-pat"),
        Some(scanner_core::Severity::Critical)
    );
    assert!(cfg.disabled_rules().contains(&"generic-api-key".to_owned()));
    let scanner = Scanner::builder().config(cfg).build().unwrap();
    let scan = |rel: &str| {
        let bytes = std::fs::read(testdata(rel)).unwrap();
        scanner.scan_bytes(&bytes, &Origin::path(rel))
    };
    // generic-api-key is off; slack-bot-token (imported) still fires.
    let f = scan("config/samples/alerts.yaml");
    assert_eq!(
        positions(&f).iter().map(|p| p.0).collect::<Vec<_>>(),
        vec!["slack-bot-token"]
    );
    assert!(scan("config/samples/settings.py").is_empty());
    // The AWS key still fires at the base's severity.
    let f = scan("config/samples/deploy.env");
    assert_eq!(positions(&f)[0].0, "aws-access-token");
    assert_eq!(f[0].severity, scanner_core::Severity::High);
    // The PAT's stopword (this file's global allowlist) drops both rules that saw it.
    assert!(scan("config/samples/release.sh").is_empty());
}

#[test]
fn extends_errors_point_at_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("leakscan.toml");
    std::fs::write(&p, "# tuned\nextends = \"missing.toml\"\n").unwrap();
    let err = Config::load(&p).unwrap_err().to_string();
    assert!(err.contains("leakscan.toml:2:11"), "{err}");
    assert!(err.contains("missing.toml"), "{err}");
    // A file that extends itself stops at the link limit instead of looping.
    std::fs::write(&p, "extends = \"leakscan.toml\"\n").unwrap();
    let err = Config::load(&p).unwrap_err().to_string();
    assert!(err.contains("extends"), "{err}");
}
