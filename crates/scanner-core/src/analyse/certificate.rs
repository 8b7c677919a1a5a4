//! A client certificate's identity: who Kubernetes takes it for (CN = user, O = groups), who
//! issued it, how long it is accepted, and the digest audit logs name it by.

use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::analyse::unix_to_rfc3339;
use crate::finding::CertificateInfo;

/// The group that bypasses RBAC entirely.
pub const SYSTEM_MASTERS: &str = "system:masters";

/// Describes the certificate in `der`, `None` if it does not parse.
pub fn describe(der: &[u8], now: i64) -> Option<CertificateInfo> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let subject = cert.subject();
    let user = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);
    let groups = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok())
        .map(str::to_owned)
        .collect();
    let not_after = cert.validity().not_after.timestamp();
    let sha256: String = Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(CertificateInfo {
        subject: subject.to_string(),
        user,
        groups,
        issuer: cert.issuer().to_string(),
        not_before: unix_to_rfc3339(cert.validity().not_before.timestamp()),
        not_after: unix_to_rfc3339(not_after),
        expired: not_after <= now,
        sha256,
    })
}
