//! `leakscan git`: history, range and staged scans.

use anyhow::{bail, Result};

use crate::args::GitArgs;

/// Runs a git scan.
pub fn run(_args: GitArgs) -> Result<u8> {
    bail!("leakscan git is not implemented yet")
}
