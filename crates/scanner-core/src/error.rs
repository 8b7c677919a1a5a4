//! Typed errors of the library.

use std::path::PathBuf;

/// Everything that can go wrong in `scanner_core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading an input failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The input.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A rule's regex or keyword set did not compile.
    #[error("rule {id}: {reason}")]
    Rule {
        /// Rule id.
        id: String,
        /// Why it failed.
        reason: String,
    },
    /// A configuration file is invalid.
    #[error("{path}:{line}:{column}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A time value could not be parsed.
    #[error("invalid time {0:?}: expected RFC 3339, e.g. 2024-01-31T12:00:00Z")]
    Time(String),
    /// A public-key file (JWKS or PEM) could not be used.
    #[error("key file {path}: {reason}")]
    Key {
        /// The file (or label) the keys came from.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
