//! What a credential means: JWT claims → Kubernetes token details, and how severe a finding is.

mod severity;
mod token;

pub use severity::{severity_after_live, severity_for};
pub use token::{classify, unix_to_rfc3339};
