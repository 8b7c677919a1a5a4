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
//! let scanner = Scanner::new();
//! let text = b"password: hunter2\n"; // not in a kubeconfig user: no finding
//! let findings = scanner.scan_bytes(text, &Origin::path("notes.txt"));
//! assert!(findings.is_empty());
//! ```

#![warn(missing_docs)]

pub mod analyse;
pub mod decode;
mod error;
mod finding;
mod location;
mod origin;
mod prefilter;
pub mod report;
pub mod rules;
mod scanner;
mod sink;
pub mod source;

pub use error::{Error, Result};
pub use finding::{
    fingerprint, Finding, GitInfo, GitLocation, Secret, Severity, SignatureStatus, TokenInfo,
    TokenKind,
};
pub use origin::Origin;
pub use scanner::{Scanner, ScannerBuilder, CHUNK_OVERLAP};
pub use sink::{FnSink, Sink};
