//! Live verification of a scan's findings as one library call: which findings the API
//! server can judge, asking it within the budget, and folding each answer into its finding.

use super::live::{LiveOptions, LiveVerifier};
use super::LiveStatus;
use crate::analyse::severity_after_live;
use crate::finding::Finding;

/// What [`verify_findings`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveTally {
    /// HTTPS requests sent.
    pub requests: usize,
    /// Findings the server accepted.
    pub live: usize,
    /// Findings the server rejected.
    pub rejected: usize,
    /// Findings no server answered for.
    pub unreachable: usize,
    /// Findings not asked (budget spent, or a status added later).
    pub skipped: usize,
}

/// Asks the API servers about every [`eligible`](super::eligible) finding — its own
/// kubeconfig's `server` first, then `servers` — within `opts`' budget, and sets each one's
/// `live` and severity from the answer. Findings with nobody to ask are left alone.
pub fn verify_findings(
    findings: &mut [Finding],
    opts: &LiveOptions,
    servers: &[String],
) -> crate::Result<LiveTally> {
    let mut verifier = LiveVerifier::new(opts)?;
    let mut tally = LiveTally::default();
    for f in findings.iter_mut().filter(|f| super::eligible(f)) {
        let to_ask: Vec<String> = f.api_server.iter().chain(servers).cloned().collect();
        if to_ask.is_empty() {
            continue;
        }
        let ns = f.token.as_ref().and_then(|t| t.namespace.clone());
        let check = verifier.check(f.secret.expose(), &to_ask, ns.as_deref());
        match check.status {
            LiveStatus::Live => tally.live += 1,
            LiveStatus::Rejected => tally.rejected += 1,
            LiveStatus::Unreachable => tally.unreachable += 1,
            _ => tally.skipped += 1,
        }
        f.severity = severity_after_live(f.severity, &check);
        f.live = Some(check);
    }
    tally.requests = verifier.requests();
    Ok(tally)
}
