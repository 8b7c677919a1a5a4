//! `leakscan baseline create`: the same scan as `leakscan scan` / `leakscan git`, written as
//! a baseline of accepted fingerprints instead of a report.

use anyhow::{bail, Result};

use crate::args::{BaselineCreateArgs, GitArgs};
use crate::output::Reporter;
use crate::{cmd_git, cmd_scan};

/// Scans and writes the baseline; succeeds whatever it finds.
pub fn create(args: BaselineCreateArgs) -> Result<u8> {
    let reporter = Reporter::for_baseline(&args.scan.common)?;
    if !args.git {
        crate::output::refuse_output_onto_input(&args.scan.common, &args.scan.paths)?;
        return cmd_scan::run_with(args.scan, reporter);
    }
    let repo = match args.scan.paths.as_slice() {
        [one] => one.clone(),
        _ => bail!("--git takes exactly one repository path"),
    };
    let git = GitArgs {
        repos: vec![repo],
        repos_file: None,
        shard: None,
        range: None,
        since_commit: None,
        staged: false,
        branch: Vec::new(),
        max_file_size: args.scan.max_file_size,
        archive_depth: args.scan.archive_depth,
        common: args.scan.common,
    };
    cmd_git::run_with(git, reporter)
}
