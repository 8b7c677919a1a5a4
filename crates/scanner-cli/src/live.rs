//! `--verify-live`: after the scan, asks the API server about each Kubernetes token and
//! folds the answer into the finding (its `live` field and severity).

use anyhow::{bail, Result};
use scanner_core::Finding;

use crate::args::CommonArgs;

/// The live-verification options of one run.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "live"), allow(dead_code))]
pub struct Settings {
    servers: Vec<String>,
    ca_certs: Vec<std::path::PathBuf>,
    timeout: std::time::Duration,
    budget: usize,
}

impl Settings {
    /// `None` unless `--verify-live` was given; checks the other options.
    pub fn from_args(common: &CommonArgs) -> Result<Option<Settings>> {
        if !common.verify_live {
            return Ok(None);
        }
        if cfg!(not(feature = "live")) {
            bail!("--verify-live: this leakscan was built without the `live` feature");
        }
        if !(common.live_timeout > 0.0 && common.live_timeout <= 300.0) {
            bail!("--live-timeout must be between 0 and 300 seconds");
        }
        for s in &common.api_server {
            if !s.starts_with("https://") {
                bail!("--api-server {s}: must be an https:// URL (a token is never sent in clear text)");
            }
        }
        Ok(Some(Settings {
            servers: common.api_server.clone(),
            ca_certs: common.ca_cert.clone(),
            timeout: std::time::Duration::from_secs_f64(common.live_timeout),
            budget: common.live_budget,
        }))
    }
}

/// Asks the API servers about every eligible finding, within the budget.
#[cfg(feature = "live")]
pub fn verify(findings: &mut [Finding], settings: &Settings, quiet: bool) -> Result<()> {
    use anyhow::Context;
    use scanner_core::verify::live::LiveOptions;

    let opts = LiveOptions {
        ca_certs: settings.ca_certs.clone(),
        timeout: settings.timeout,
        budget: settings.budget,
    };
    let t = scanner_core::verify::verify_findings(findings, &opts, &settings.servers)
        .context("--ca-cert")?;
    if !quiet && t.requests > 0 {
        eprintln!(
            "leakscan: live verification: {} requests; {} live, {} rejected, {} unreachable, {} skipped",
            t.requests, t.live, t.rejected, t.unreachable, t.skipped
        );
    }
    Ok(())
}

/// Without the `live` feature `Settings::from_args` already refused `--verify-live`.
#[cfg(not(feature = "live"))]
pub fn verify(_findings: &mut [Finding], _settings: &Settings, _quiet: bool) -> Result<()> {
    Ok(())
}
