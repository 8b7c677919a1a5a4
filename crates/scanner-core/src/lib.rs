//! `scanner_core` finds leaked Kubernetes API credentials in bytes.
//!
//! Data flows one way: a source hands the [`Scanner`] bytes with an [`Origin`]; the scanner
//! runs one Aho-Corasick prefilter over every rule's keywords, confirms each hit with a
//! regex and a structural check (JWT segments that decode to JSON, PEM bodies, kubeconfig
//! structure), decodes base64 / JSON escapes / percent-encoding on the way, and hands each
//! [`Finding`] to a [`Sink`]. Reports render the collected findings.
//!
//! ```
//! use scanner_core::{Origin, Scanner};
//!
//! // Build once (rule compilation is sub-millisecond); the scanner is Send + Sync.
//! let scanner = Scanner::new();
//! let kubeconfig = b"users:\n- name: ops\n  user:\n    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c\n";
//! let findings = scanner.scan_bytes(kubeconfig, &Origin::path("ops.kubeconfig"));
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].rule_id, "kubeconfig-token");
//! assert_eq!((findings[0].line, findings[0].column), (4, 12));
//! // Secrets print redacted unless you ask for them.
//! assert!(!findings[0].secret.to_string().contains("0a5c8e1b"));
//!
//! // The same word outside a kubeconfig user is not a finding.
//! assert!(scanner.scan_bytes(b"password: hunter2\n", &Origin::path("notes.txt")).is_empty());
//! ```

#![warn(missing_docs)]

mod allowlist;
pub mod analyse;
pub mod audit;
pub mod baseline;
mod candidate;
pub mod config;
pub mod decode;
mod error;
mod finding;
mod fingerprint;
mod location;
mod origin;
mod prefilter;
mod problem;
pub mod report;
pub mod rules;
mod scanner;
mod sink;
pub mod source;
pub mod suppress;
pub mod verify;

pub use error::{Error, Result};
pub use finding::{
    CertificateInfo, Finding, GitInfo, GitLocation, Secret, Severity, SignatureStatus, TokenInfo,
    TokenKind, BINARY_STEP,
};
pub use fingerprint::guessable;
pub use origin::Origin;
pub use problem::{Class, Problem};
pub use scanner::{ExampleFailure, Scanner, ScannerBuilder, CHUNK_OVERLAP};
pub use sink::{Collected, FnSink, Sink};
