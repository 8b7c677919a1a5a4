//! `leakscan git`: history, range and staged scans.

use std::path::Path;

use anyhow::{Context, Result};
use scanner_core::report::RunStats;
use scanner_core::source::archive::ArchiveLimits;
use scanner_core::source::git::remote::{PendingClone, RemoteUrl};
use scanner_core::source::git::{self, HistoryOptions, Selection};
use scanner_core::source::Events;
use scanner_core::{Finding, Problem};

use crate::args::GitArgs;
use crate::config;
use crate::fleet::{self, Target};
use crate::interrupt;
use crate::output::{build_scanner, Reporter};

/// Forwards a git source's events to the reporter, naming the repository in findings and
/// errors.
struct ToReporter<'a>(&'a Reporter, &'a str);

impl Events for ToReporter<'_> {
    fn finding(&self, mut finding: Finding) {
        finding.repository = Some(self.1.to_owned());
        self.0.finding(finding);
    }
    fn error(&self, path: &str, kind: Problem, message: &str) {
        self.0.error_in(Some(self.1), path, kind, message);
    }
    fn scanned(&self, _path: &str, _bytes: u64) {}
    fn suppressed(&self, n: u64) {
        self.0.suppressed(n);
    }
}

/// Runs a git scan.
pub fn run(args: GitArgs) -> Result<u8> {
    let reporter = Reporter::new(&args.common)?;
    run_with(args, reporter)
}

/// Runs the scan into `reporter` (a report, or a baseline for `leakscan baseline create`).
pub fn run_with(args: GitArgs, reporter: Reporter) -> Result<u8> {
    let mut repos = fleet::repositories(&args.repos, args.repos_file.as_deref())?;
    if args.staged && repos.len() > 1 {
        anyhow::bail!("--staged scans one repository (the one being committed to)");
    }
    if args.staged && matches!(repos.first(), Some(Target::Remote(_))) {
        anyhow::bail!("--staged scans the index of a local repository, not a clone URL");
    }
    let several = repos.len() > 1 || args.repos_file.is_some();
    if several {
        reporter.name_repositories();
    }
    if let Some(spec) = &args.shard {
        let job = std::env::var("JOB_COMPLETION_INDEX").ok();
        let shard = fleet::Shard::parse(spec, job.as_deref())?;
        let listed = repos.len();
        repos.retain(|r| shard.takes(r));
        if !args.common.quiet {
            eprintln!(
                "leakscan: shard {}/{}: {} of {listed} repositories",
                shard.index,
                shard.count,
                repos.len()
            );
        }
    }
    let mut stats = RunStats::default();
    let clones = repos
        .iter()
        .filter(|r| matches!(r, Target::Remote(_)))
        .count();
    let mut cloned = 0;
    for repo in &repos {
        let done = match repo {
            Target::Local(path) => {
                let name = path.display().to_string();
                scan_repo(&args, path, &name, true, &reporter, &mut stats)
            }
            Target::Remote(url) => {
                cloned += 1;
                if !args.common.quiet {
                    eprintln!("leakscan: cloning {url} ({cloned} of {clones})");
                }
                scan_remote(&args, url, &reporter, &mut stats)
            }
        };
        match done {
            Ok(()) => {}
            // Several repositories: one that fails is an error entry, the rest go on.
            Err(e) if several => {
                let name = repo.name();
                let repository = Some(name.as_str());
                reporter.error_in(
                    repository,
                    &name,
                    Problem::RepositoryError,
                    format!("{e:#}"),
                )
            }
            Err(e) => return Err(e),
        }
    }
    let (quiet, exit_code) = (args.common.quiet, args.common.exit_code);
    let code = reporter.finish(stats)?;
    if args.staged && !quiet && code != 0 {
        eprintln!("{}", blocked_message(code == exit_code));
    }
    Ok(code)
}

/// Clones `url` bare (full history) into a temporary directory, scans it and removes it,
/// so the disk and memory a fleet scan needs are those of its largest repository.
fn scan_remote(
    args: &GitArgs,
    url: &RemoteUrl,
    reporter: &Reporter,
    stats: &mut RunStats,
) -> Result<()> {
    if url.has_credential() && !args.common.quiet {
        eprintln!(
            "leakscan: warning: {url} carries a credential in the URL; a credential helper, \
             GIT_ASKPASS or an SSH key keeps it out of process lists and files"
        );
    }
    let pending = PendingClone::start(url, None)?;
    let dir = pending.dir();
    interrupt::remove_clone_on_interrupt(&dir, Some(pending.id()));
    let clone = pending.wait();
    interrupt::remove_clone_on_interrupt(&dir, None);
    let scanned = clone
        .map_err(anyhow::Error::from)
        .and_then(|c| scan_repo(args, c.path(), url.redacted(), false, reporter, stats));
    // The clone is gone once scanned (dropped above); the handler has nothing left to do.
    interrupt::forget_clone(&dir);
    scanned
}

/// Scans one repository into `reporter` under the name `repo`, adding to `stats`.
/// `discover`: look for the repository's own leakscan.toml (not in a temporary clone,
/// whose surroundings are not the repository's).
fn scan_repo(
    args: &GitArgs,
    repo_path: &Path,
    repo: &str,
    discover: bool,
    reporter: &Reporter,
    stats: &mut RunStats,
) -> Result<()> {
    // Each repository's own leakscan.toml, unless --config names one for all.
    let roots = if discover {
        vec![repo_path.to_path_buf()]
    } else {
        Vec::new()
    };
    let config = config::load(args.common.config.as_deref(), &roots)?;
    let scanner = build_scanner(&args.common, config)?;
    config::report_skipped(scanner.config(), reporter);
    let events = ToReporter(reporter, repo);
    let archive = ArchiveLimits {
        max_depth: args.archive_depth,
        ..ArchiveLimits::default()
    };
    if args.staged {
        let opts = git::StagedOptions {
            max_blob_size: Some(args.max_file_size),
            archive,
        };
        let s = git::scan_staged_with(repo_path, &scanner, &opts, &events)
            .with_context(|| format!("scanning the staged changes of {repo}"))?;
        stats.files += s.files;
        stats.bytes += s.bytes;
        stats.skipped += s.skipped;
    } else {
        let selection = match (&args.range, &args.since_commit) {
            (Some(r), _) => Selection::Range(r.clone()),
            (None, Some(c)) => Selection::Range(format!("{c}..HEAD")),
            (None, None) if !args.branch.is_empty() => Selection::Refs(args.branch.clone()),
            (None, None) => Selection::AllRefs,
        };
        let opts = HistoryOptions {
            selection,
            threads: args.common.threads.unwrap_or(0),
            max_blob_size: Some(args.max_file_size),
            archive,
        };
        let s = git::scan_history(repo_path, &scanner, &opts, &events)
            .with_context(|| format!("scanning the history of {repo}"))?;
        stats.files += s.blobs;
        stats.bytes += s.bytes;
        *stats.commits.get_or_insert(0) += s.commits;
        if args.common.verbose {
            let p = s.phases;
            // Wall clock for the two phases; thread seconds (all workers) within the second.
            eprintln!(
                "leakscan: phases: walk {:.2}s, blobs {:.2}s (thread time: read+inflate {:.2}s, scan {:.2}s) in {repo}",
                p.walk.as_secs_f64(),
                p.blobs.as_secs_f64(),
                p.read.as_secs_f64(),
                p.scan.as_secs_f64()
            );
        }
    }
    Ok(())
}

/// What a pre-commit user reads when the hook stops a commit: why, and every way on.
fn blocked_message(findings: bool) -> &'static str {
    if findings {
        "leakscan: commit blocked: the staged changes hold the credentials above.\n  \
         Remove them (and rotate any that were real), then stage again. If one is not a \
         secret:\n  - add a `leakscan:allow` comment on its line, or\n  - accept today's \
         findings: `leakscan baseline create .` and add `--baseline \
         .leakscan-baseline.json` to the hook's args.\n  `git commit --no-verify` skips \
         every hook once."
    } else {
        "leakscan: commit blocked: part of the staged changes could not be read (see the \
         warnings above), so the hook cannot vouch for them. Repair the repository \
         (`git fsck`), or drop `--fail-on-incomplete` from the hook's args."
    }
}
