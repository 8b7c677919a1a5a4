//! `--jwks` / `--public-key`: loads the keys that signature verification uses.

use anyhow::{Context, Result};
use scanner_core::verify::KeySet;

use crate::args::CommonArgs;

/// Every key the options name; a file that cannot be used is a usage error.
pub fn load(common: &CommonArgs) -> Result<KeySet> {
    let mut keys = KeySet::new();
    for path in &common.jwks {
        keys.load_jwks(path).context("--jwks")?;
    }
    for path in &common.public_key {
        keys.load_pem(path).context("--public-key")?;
    }
    Ok(keys)
}
