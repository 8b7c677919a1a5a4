//! Checking whether a found credential is real: offline signature verification against the
//! cluster's public keys ([`jwks`]) and, with the `live` feature and only when asked, the
//! API server's own answer ([`live`]).

#[cfg(feature = "live")]
mod blast;
mod check;
#[cfg(feature = "live")]
mod findings;
pub mod jwks;
#[cfg(feature = "live")]
pub mod live;

pub use check::{LiveCheck, LiveStatus};
#[cfg(feature = "live")]
pub use findings::{verify_findings, LiveTally};

use crate::finding::Finding;
use crate::rules;

/// Whether the API server can judge `f`: Kubernetes bearer tokens (service-account,
/// kubeconfig, bootstrap, static tokens) and any JWT found as a kubeconfig user's token.
/// Expired ones are known dead and cost no request.
pub fn eligible(f: &Finding) -> bool {
    let kube = rules::is_kubernetes_bearer(&f.rule_id)
        || (f.rule_id == rules::JWT && f.api_server.is_some());
    kube && !f.token.as_ref().is_some_and(|t| t.expired)
}
pub use jwks::{KeySet, Verification};
