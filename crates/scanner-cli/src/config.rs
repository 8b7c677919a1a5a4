//! Which configuration a run uses (`--config`, else `leakscan.toml` found at the scan root
//! or the repository root), and how its skipped gitleaks rules reach the user.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use scanner_core::config::{self, Config};

use crate::output::Reporter;

/// Loads `explicit`, or the first `leakscan.toml` discovered from `roots`; `None` when
/// there is neither. An invalid file is an error naming file:line:column (exit 2).
pub fn load(explicit: Option<&Path>, roots: &[PathBuf]) -> Result<Option<Config>> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None => match roots.iter().find_map(|r| config::discover(r)) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let cfg = Config::load(&path).with_context(|| format!("configuration {}", path.display()))?;
    Ok(Some(cfg))
}

/// Lists the rules of an imported gitleaks file that were not loaded as warnings: on
/// stderr (unless --quiet) and as `rule-skipped` errors in the JSON and SARIF reports.
pub fn report_skipped(cfg: Option<&Config>, reporter: &Reporter) {
    let Some(cfg) = cfg else { return };
    let path = cfg.path().display().to_string();
    for s in cfg.skipped() {
        reporter.error(
            path.clone(),
            scanner_core::Problem::RuleSkipped,
            format!("{}: {}", s.id, s.reason),
        );
    }
}

/// `leakscan rules --check`: runs the detectors' examples with structural credentials
/// (right shape, made-up signatures) and prints one line per detector.
pub fn check_rules() -> anyhow::Result<u8> {
    use scanner_core::rules::detector::{structural, DETECTORS};
    let scanner = scanner_core::Scanner::new();
    let (total, failures) = scanner.check_examples(&mut |n: &str| structural(n));
    for d in DETECTORS {
        let failed: Vec<_> = failures.iter().filter(|f| f.detector == d.name).collect();
        let status = if failed.is_empty() { "ok" } else { "FAILED" };
        println!("{:<14} {:>2} examples  {status}", d.name, d.examples.len());
        for f in failed {
            println!("  #{} {}: {}", f.index, f.path, f.problem);
        }
    }
    println!("{total} examples, {} failed", failures.len());
    Ok(if failures.is_empty() { 0 } else { 2 })
}

/// `leakscan rules`: the built-in rules as the configuration leaves them, then its custom
/// rules.
pub fn print_rules(cfg: Option<&Config>) {
    let disabled = cfg.map(Config::disabled_rules).unwrap_or_default();
    for r in scanner_core::rules::BUILTIN_RULES {
        let sev = cfg
            .and_then(|c| c.severity_override(r.id))
            .unwrap_or(r.severity);
        let off = if disabled.iter().any(|d| d == r.id) {
            " (disabled)"
        } else {
            ""
        };
        println!("{:<24} {:<9} {}{off}", r.id, sev.as_str(), r.description);
    }
    let Some(cfg) = cfg else { return };
    let custom = cfg.custom_rules();
    if custom.is_empty() {
        return;
    }
    println!(
        "\n{} custom rules from {} ({} skipped):",
        custom.len(),
        cfg.path().display(),
        cfg.skipped().len()
    );
    for r in custom {
        let off = if disabled.contains(&r.id) {
            " (disabled)"
        } else {
            ""
        };
        println!(
            "{:<24} {:<9} {}{off}",
            r.id,
            r.severity.as_str(),
            r.description
        );
    }
    for s in cfg.skipped() {
        println!("skipped {}: {}", s.id, s.reason);
    }
}
