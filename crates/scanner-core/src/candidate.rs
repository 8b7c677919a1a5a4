//! What a rule hands back: a confirmed credential in the coordinates of the buffer it
//! looked at. Rules produce candidates and know nothing of the scanner; the scanner maps
//! them to input coordinates, applies allowlists and turns them into findings.

use std::borrow::Cow;

use crate::decode::Step;
use crate::finding::{CertificateInfo, Severity, TokenInfo};

/// A confirmed credential in the coordinates of the buffer a rule looked at.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// Built-in ids are static; custom rules' ids come from the configuration.
    pub rule_id: Cow<'static, str>,
    pub start: usize,
    pub end: usize,
    pub secret: String,
    pub token: Option<TokenInfo>,
    /// The client certificate beside a client key.
    pub certificate: Option<CertificateInfo>,
    /// Decoding the rule itself did (e.g. base64 of `client-key-data`).
    pub steps: Vec<Step>,
    /// Overrides the rule's description (e.g. names the registry).
    pub description: Option<String>,
    /// A custom rule's whole regex match (for allowlists with `regexTarget = "match"`).
    pub matched: Option<String>,
    /// Overrides the rule's default severity when the context decides it (a static token
    /// file row in `system:masters` is critical); a configuration's override still wins.
    pub severity: Option<Severity>,
}

impl Candidate {
    pub(crate) fn new(rule_id: &'static str, start: usize, end: usize, secret: String) -> Self {
        Candidate {
            rule_id: Cow::Borrowed(rule_id),
            start,
            end,
            secret,
            token: None,
            certificate: None,
            steps: Vec::new(),
            description: None,
            matched: None,
            severity: None,
        }
    }
}
