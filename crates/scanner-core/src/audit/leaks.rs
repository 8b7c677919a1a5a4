//! The credentials of a leakscan report (`leakscan scan|git --format json` or `jsonl`), one
//! [`Leak`] per `credential_id`, with what the audit log names each by. Reports carry
//! secrets redacted, and nothing here needs the secret: only public identifiers (a token's
//! `jti`, its ServiceAccount and Secret, a bootstrap token's id, a certificate's digest).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::stamp::Stamp;
use super::AuditError;
use crate::rules;

/// What the audit log names one credential by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum LookupKey {
    /// A bound token: `user.extra["authentication.kubernetes.io/credential-id"] = ["JTI=…"]`.
    Jti {
        /// The token's `jti` claim.
        jti: String,
    },
    /// A legacy token: its user plus the `legacy-token-*-secret` annotation naming its Secret.
    LegacySecret {
        /// Namespace of the ServiceAccount and Secret.
        namespace: String,
        /// The ServiceAccount.
        service_account: String,
        /// The Secret that holds the token.
        secret: String,
    },
    /// A bootstrap token: user `system:bootstrap:ID`.
    BootstrapId {
        /// The public token id.
        token_id: String,
    },
    /// A client certificate: credential-id `X509SHA256=…` (lower-case hex of the DER).
    CertificateSha256 {
        /// SHA-256 of the certificate, lower-case hex.
        sha256: String,
    },
}

impl LookupKey {
    /// How the key appears in an audit event, for people.
    pub fn describe(&self) -> String {
        match self {
            LookupKey::Jti { jti } => format!("credential-id JTI={jti}"),
            LookupKey::LegacySecret {
                namespace,
                service_account,
                secret,
            } => format!(
                "user system:serviceaccount:{namespace}:{service_account} with Secret {secret}"
            ),
            LookupKey::BootstrapId { token_id } => format!("user system:bootstrap:{token_id}"),
            LookupKey::CertificateSha256 { sha256 } => format!("credential-id X509SHA256={sha256}"),
        }
    }
}

/// Where one location of the credential is (the first one, for SARIF and text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Place {
    /// Path as reported by the scan.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// 1-based last line.
    pub end_line: usize,
    /// Exclusive end column.
    pub end_column: usize,
    /// Commit that introduced it (history findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// One credential of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Leak {
    /// The report's `credential_id`.
    pub credential_id: String,
    /// Rule id of its first location.
    pub rule_id: String,
    /// Whom it authenticates, for people (`ci/deployer`, `bootstrap token x7k2p9` ...).
    pub identity: String,
    /// What the audit log names it by; `None` when the report says too little.
    pub key: Option<LookupKey>,
    /// Why it cannot be looked up, when `key` is `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_matchable: Option<String>,
    /// When it leaked: the earliest commit date of its history locations or `--leaked-at`.
    #[serde(skip)]
    pub leaked: Option<Stamp>,
    /// Where `leaked` comes from (`commit …`, `--leaked-at`).
    #[serde(skip)]
    pub leaked_source: Option<String>,
    /// Its first location.
    pub first_location: Place,
    /// How many locations the report gives it.
    pub locations: u64,
}

/// The fields of a report finding (or, with `findings`, of the whole report) that matter.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Entry {
    findings: Option<Vec<Entry>>,
    rule_id: Option<String>,
    credential_id: Option<String>,
    path: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    git: Option<GitRef>,
    token: Option<TokenRef>,
    token_id: Option<String>,
    certificate: Option<CertificateRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GitRef {
    commit: String,
    date: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenRef {
    jti: Option<String>,
    namespace: Option<String>,
    service_account: Option<String>,
    secret_name: Option<String>,
    subject: Option<String>,
}

/// `certificate` of a kubeconfig client-key finding: its digest, and whom it names.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CertificateRef {
    sha256: Option<String>,
    subject: Option<String>,
    /// The subject CN, the Kubernetes user (`CertificateInfo::user`).
    #[serde(alias = "common_name")]
    user: Option<String>,
}

/// Reads the credentials of a leakscan JSON report (one document) or JSONL report (one
/// finding per line). `leaked_at` is `--leaked-at`.
pub fn read_report(data: &[u8], leaked_at: Option<Stamp>) -> Result<Vec<Leak>, AuditError> {
    let mut entries = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(data).into_iter::<Entry>();
    for item in stream.by_ref() {
        let mut e = item.map_err(|e| AuditError::ReportFormat(e.to_string()))?;
        match e.findings.take() {
            Some(list) => entries.extend(list),
            None if e.rule_id.is_some() => entries.push(e),
            None => {
                return Err(AuditError::ReportFormat(
                    "neither a leakscan report ({\"findings\": …}) nor a finding".into(),
                ))
            }
        }
    }
    let mut order: Vec<String> = Vec::new();
    let mut by_id: HashMap<String, Vec<Entry>> = HashMap::new();
    for e in entries {
        let Some(id) = e.credential_id.clone().filter(|s| !s.is_empty()) else {
            return Err(AuditError::ReportFormat(format!(
                "a finding at {} has no credential_id (written by a leakscan before 0.1's \
                 credential ids?): scan again",
                e.path
            )));
        };
        let group = by_id.entry(id.clone()).or_default();
        if group.is_empty() {
            order.push(id);
        }
        group.push(e);
    }
    Ok(order
        .into_iter()
        .map(|id| {
            let group = by_id.remove(&id).unwrap_or_default();
            leak(id, &group, leaked_at)
        })
        .collect())
}

fn leak(credential_id: String, group: &[Entry], leaked_at: Option<Stamp>) -> Leak {
    let first = &group[0];
    let rule_id = first.rule_id.clone().unwrap_or_default();
    // The earliest commit that holds it is when it leaked; --leaked-at may say earlier.
    let mut leaked: Option<(Stamp, String)> = None;
    for e in group {
        let Some(g) = &e.git else { continue };
        if let Some(t) = Stamp::parse(&g.date) {
            if leaked.as_ref().is_none_or(|(l, _)| t < *l) {
                let short = g.commit.get(..10).unwrap_or(&g.commit);
                leaked = Some((t, format!("commit {short}")));
            }
        }
    }
    if let Some(t) = leaked_at {
        if leaked.as_ref().is_none_or(|(l, _)| t < *l) {
            leaked = Some((t, "--leaked-at".to_owned()));
        }
    }
    let (key, identity, not_matchable) = lookup(&rule_id, group);
    Leak {
        credential_id,
        rule_id,
        identity,
        key,
        not_matchable,
        leaked: leaked.as_ref().map(|(t, _)| *t),
        leaked_source: leaked.map(|(_, s)| s),
        first_location: Place {
            path: first.path.clone(),
            line: first.line,
            column: first.column,
            end_line: first.end_line,
            end_column: first.end_column,
            commit: first.git.as_ref().map(|g| g.commit.clone()),
        },
        locations: group.len() as u64,
    }
}

/// What the audit log names the credential by, whom it is, or why it cannot be looked up.
/// Any location that knows more (a `jti`, a certificate digest) is enough.
fn lookup(rule_id: &str, group: &[Entry]) -> (Option<LookupKey>, String, Option<String>) {
    let token = group.iter().find_map(|e| e.token.as_ref());
    let sa = token.and_then(|t| Some((t.namespace.clone()?, t.service_account.clone()?)));
    let sa_name = sa.as_ref().map(|(ns, sa)| format!("{ns}/{sa}"));
    let none = |identity: String, why: &str| (None, identity, Some(why.to_owned()));
    match rule_id {
        rules::K8S_SA_TOKEN_BOUND => {
            let identity = sa_name.unwrap_or_else(|| "bound token".into());
            match group.iter().find_map(|e| e.token.as_ref()?.jti.clone()) {
                Some(jti) => (Some(LookupKey::Jti { jti }), identity, None),
                None => none(
                    identity,
                    "the token has no jti claim: the audit log cannot tell it from the other \
                     tokens of its ServiceAccount",
                ),
            }
        }
        rules::K8S_SA_TOKEN_LEGACY => {
            let secret = token.and_then(|t| t.secret_name.clone());
            match (sa, secret) {
                (Some((namespace, service_account)), Some(secret)) => {
                    let identity = format!("{namespace}/{service_account} (Secret {secret})");
                    (
                        Some(LookupKey::LegacySecret {
                            namespace,
                            service_account,
                            secret,
                        }),
                        identity,
                        None,
                    )
                }
                _ => none(
                    sa_name.unwrap_or_else(|| "legacy token".into()),
                    "the token names no Secret: its ServiceAccount's other tokens look the same \
                     in the audit log",
                ),
            }
        }
        rules::K8S_BOOTSTRAP_TOKEN => match group.iter().find_map(|e| e.token_id.clone()) {
            Some(token_id) => (
                Some(LookupKey::BootstrapId {
                    token_id: token_id.clone(),
                }),
                format!("bootstrap token {token_id}"),
                None,
            ),
            None => none(
                "bootstrap token".into(),
                "the report carries no token id (a token-secret found without its token-id, or \
                 a report written before token_id)",
            ),
        },
        rules::KUBECONFIG_CLIENT_KEY => {
            let cert = group.iter().find_map(|e| e.certificate.as_ref());
            let who = cert
                .and_then(|c| c.user.clone().or_else(|| c.subject.clone()))
                .map_or("client certificate".to_owned(), |cn| {
                    format!("client certificate {cn}")
                });
            match cert
                .and_then(|c| c.sha256.as_deref())
                .and_then(normalise_hex)
            {
                Some(sha256) => (Some(LookupKey::CertificateSha256 { sha256 }), who, None),
                None => none(
                    who,
                    "the report carries no certificate.sha256 for this key: the audit log names \
                     a client certificate only by the SHA-256 of its DER",
                ),
            }
        }
        _ => none(
            token
                .and_then(|t| t.subject.clone())
                .map_or_else(|| rule_id.to_owned(), |s| format!("sub={s}")),
            "the audit log names this kind of credential by no identifier the report carries \
             (a static token, password, OIDC or registry credential authenticates as a user \
             the API server's configuration decides)",
        ),
    }
}

/// `AB:CD:…` or `abcd…` (64 hex digits) as lower-case hex without separators.
fn normalise_hex(s: &str) -> Option<String> {
    let hex: String = s
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_normalised() {
        let colons = "AB:".repeat(31) + "AB";
        assert_eq!(normalise_hex(&colons), Some("ab".repeat(32)));
        assert_eq!(normalise_hex("abc"), None);
    }

    #[test]
    fn jsonl_reports_and_documents_read_alike() {
        let f = r#"{"rule_id":"k8s-bootstrap-token","credential_id":"c1","path":"a","token_id":"x7k2p9"}"#;
        let doc = format!(r#"{{"version":"0.1.0","findings":[{f},{f}],"stats":{{}}}}"#);
        let a = read_report(doc.as_bytes(), None).unwrap();
        let b = read_report(format!("{f}\n{f}\n").as_bytes(), None).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].locations, 2);
        assert_eq!(b[0].key, a[0].key);
        assert!(read_report(b"{\"x\":1}", None).is_err());
        assert!(read_report(b"{\"findings\":[", None).is_err());
    }
}
