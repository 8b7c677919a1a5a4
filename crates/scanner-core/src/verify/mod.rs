//! Checking whether a found credential is real: offline signature verification against the
//! cluster's public keys ([`jwks`]) and, with the `live` feature and only when asked, the
//! API server's own answer ([`live`]).

#[cfg(feature = "live")]
mod blast;
mod check;
pub mod jwks;
#[cfg(feature = "live")]
pub mod live;

pub use check::{LiveCheck, LiveStatus};
pub use jwks::{KeySet, Verification};
