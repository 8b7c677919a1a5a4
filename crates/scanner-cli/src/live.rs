//! `--verify-live`: after the scan, asks the API server about each Kubernetes token and
//! folds the answer into the finding (its `live` field and severity).

use anyhow::{bail, Result};
use scanner_core::{rules, Finding};

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

/// Kubernetes bearer tokens the API server can judge: service-account, kubeconfig and
/// bootstrap tokens (and any JWT used as a kubeconfig user's token). Expired ones are
/// known dead and cost no request.
#[cfg_attr(not(feature = "live"), allow(dead_code))]
fn eligible(f: &Finding) -> bool {
    let kube = rules::is_kubernetes_bearer(&f.rule_id)
        || (f.rule_id == rules::JWT && f.api_server.is_some());
    kube && !f.token.as_ref().is_some_and(|t| t.expired)
}

/// Asks the API servers about every eligible finding, within the budget.
#[cfg(feature = "live")]
pub fn verify(findings: &mut [Finding], settings: &Settings, quiet: bool) -> Result<()> {
    use anyhow::Context;
    use scanner_core::analyse::severity_after_live;
    use scanner_core::verify::live::{LiveOptions, LiveVerifier};
    use scanner_core::verify::LiveStatus;

    let opts = LiveOptions {
        ca_certs: settings.ca_certs.clone(),
        timeout: settings.timeout,
        budget: settings.budget,
    };
    let mut verifier = LiveVerifier::new(&opts).context("--ca-cert")?;
    let mut tally = [0usize; 4];
    for f in findings.iter_mut().filter(|f| eligible(f)) {
        let servers: Vec<String> = f
            .api_server
            .iter()
            .chain(&settings.servers)
            .cloned()
            .collect();
        if servers.is_empty() {
            // Found outside a kubeconfig and no --api-server: nobody to ask.
            continue;
        }
        let ns = f.token.as_ref().and_then(|t| t.namespace.clone());
        let check = verifier.check(f.secret.expose(), &servers, ns.as_deref());
        tally[match check.status {
            LiveStatus::Live => 0,
            LiveStatus::Rejected => 1,
            LiveStatus::Unreachable => 2,
            // A status added later counts as not asked.
            _ => 3,
        }] += 1;
        f.severity = severity_after_live(f.severity, &check);
        f.live = Some(check);
    }
    if !quiet && verifier.requests() > 0 {
        eprintln!(
            "leakscan: live verification: {} requests; {} live, {} rejected, {} unreachable, {} skipped",
            verifier.requests(),
            tally[0],
            tally[1],
            tally[2],
            tally[3]
        );
    }
    Ok(())
}

/// Without the `live` feature `Settings::from_args` already refused `--verify-live`.
#[cfg(not(feature = "live"))]
pub fn verify(_findings: &mut [Finding], _settings: &Settings, _quiet: bool) -> Result<()> {
    Ok(())
}
