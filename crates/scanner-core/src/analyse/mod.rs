//! What a credential means: JWT claims → Kubernetes token details, how severe a finding is,
//! and how to make it stop working.

mod certificate;
mod remediation;
mod severity;
mod token;

pub use certificate::{describe as describe_certificate, SYSTEM_MASTERS};
pub use remediation::{remediation, Remediation};
pub use severity::{severity_after_live, severity_for, severity_for_certificate};
pub use token::{classify, unix_to_rfc3339};
