//! What live verification found out about a token: [`LiveCheck`], part of a finding.

use serde::{Deserialize, Serialize};

/// Answer of the API server about a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LiveStatus {
    /// The API server authenticated the token: it works right now.
    Live,
    /// The API server answered 401: the token is revoked, expired or from another cluster.
    Rejected,
    /// No answer: connection, TLS or timeout failure, or an unexpected reply.
    Unreachable,
    /// Not asked: the request budget was spent.
    Skipped,
}

/// The result of asking an API server about one token (`--verify-live`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LiveCheck {
    /// Live, rejected, unreachable or skipped.
    pub status: LiveStatus,
    /// The API server asked (the last one, when several were tried).
    pub server: String,
    /// `status.userInfo.username` of the SelfSubjectReview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `status.userInfo.uid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `status.userInfo.groups`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The riskiest things the token may do, e.g. `kube-system: get,list secrets`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// The server said its rules list may be incomplete (e.g. webhook authorizers).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub permissions_incomplete: bool,
    /// Why it is unreachable or skipped, or what failed on the way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl LiveCheck {
    /// A check with only a status, a server and a reason.
    pub fn failed(status: LiveStatus, server: &str, reason: impl Into<String>) -> Self {
        LiveCheck {
            status,
            server: server.to_owned(),
            username: None,
            uid: None,
            groups: Vec::new(),
            permissions: Vec::new(),
            permissions_incomplete: false,
            reason: Some(reason.into()),
        }
    }
}
