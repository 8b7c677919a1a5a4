//! Severity of a finding from its rule and, for tokens, what the token says about itself.

use crate::finding::{CertificateInfo, Severity, SignatureStatus, TokenInfo};
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

/// Severity of a client key from its certificate: one in `system:masters` bypasses RBAC and
/// cannot be revoked (critical); an expired one is no longer accepted (low).
pub fn severity_for_certificate(c: &CertificateInfo) -> Severity {
    if c.expired {
        Severity::Low
    } else if c
        .groups
        .iter()
        .any(|g| g == super::certificate::SYSTEM_MASTERS)
    {
        Severity::Critical
    } else {
        Severity::High
    }
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
