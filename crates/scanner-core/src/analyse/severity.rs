//! Severity of a finding from its rule and, for tokens, what the token says about itself.

use crate::finding::{Severity, SignatureStatus, TokenInfo};
use crate::rules;
use crate::verify::{LiveCheck, LiveStatus};

/// Severity per the README's table: never-expiring legacy tokens and tokens with a valid
/// signature are critical; expired tokens are low; otherwise the rule's default.
pub fn severity_for(rule_id: &str, token: Option<&TokenInfo>) -> Severity {
    let base = rules::builtin(rule_id).map_or(Severity::High, |r| r.severity);
    let Some(t) = token else {
        return base;
    };
    if t.published_sample.is_some() {
        return Severity::Info;
    }
    if t.expired {
        return Severity::Low;
    }
    if t.signature == SignatureStatus::Valid || rule_id == rules::K8S_SA_TOKEN_LEGACY {
        return Severity::Critical;
    }
    base
}

/// Severity once the API server has answered: a live token is critical, a rejected one is
/// as dead as an expired one (low); no answer changes nothing.
pub fn severity_after_live(current: Severity, live: &LiveCheck) -> Severity {
    match live.status {
        LiveStatus::Live => Severity::Critical,
        LiveStatus::Rejected => Severity::Low,
        LiveStatus::Unreachable | LiveStatus::Skipped => current,
    }
}
