//! Checking whether a found credential is real: offline signature verification against the
//! cluster's public keys ([`jwks`]).

pub mod jwks;

pub use jwks::{KeySet, Verification};
