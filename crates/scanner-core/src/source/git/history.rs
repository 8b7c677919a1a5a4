//! Full-history and range scans: list commits, find what each introduced (in parallel),
//! then read and scan every distinct blob once (in parallel) and fan findings out.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use git2::Oid;
use rayon::prelude::*;

use super::diff::{introduced, Added};
use super::fanout::{
    content_options, scan_blob, scan_blob_bytes, BlobJob, Blobs, Intro, PhaseClock,
};
use super::objects::{LooseObjects, Objects};
use super::pack::{self, PackForest, OBJ_BLOB};
use super::raw::TreeStore;
use super::stream::Packs;
use super::walk::list_commits;
use super::{open, Error, RepoPool, Result};
use crate::problem::Problem;
use crate::scanner::Scanner;
use crate::source::archive::ArchiveLimits;
use crate::source::Events;

/// Which commits a history scan looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selection {
    /// Every commit reachable from any ref (branches, tags, remotes, stash, HEAD).
    #[default]
    AllRefs,
    /// Every commit reachable from these revisions (`--branch`).
    Refs(Vec<String>),
    /// `BASE..HEAD` (or a bare `BASE`, meaning `BASE..HEAD`): only commits in the range,
    /// and only what they introduced.
    Range(String),
}

/// How to run a history scan.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// Which commits.
    pub selection: Selection,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Blobs larger than this are skipped with a `too-large` warning (`None`: no limit).
    pub max_blob_size: Option<u64>,
    /// Archives committed to the repository are opened within these limits, as in files.
    pub archive: ArchiveLimits,
}

/// What a history scan did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryStats {
    /// Commits examined.
    pub commits: u64,
    /// Distinct blobs read and scanned.
    pub blobs: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// (blob, path, commit) introductions found.
    pub introductions: u64,
    /// Blobs or trees that could not be read (reported as events).
    pub unreadable: u64,
    /// Blobs skipped for size.
    pub skipped: u64,
    /// Where the time went (wall clock for the walk and the blob phase, summed thread time
    /// for reading and scanning within it).
    pub phases: Phases,
}

/// Where a history scan spent its time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Phases {
    /// Listing commits and diffing each against its parents (wall clock).
    pub walk: Duration,
    /// Reading and scanning every distinct blob (wall clock).
    pub blobs: Duration,
    /// Within `blobs`, thread time finding, inflating and delta-resolving objects.
    pub read: Duration,
    /// Within `blobs`, thread time in the content layer and the scanner.
    pub scan: Duration,
}

/// Scans the history of the repository at or above `repo_path`: each distinct blob the
/// selected commits introduced is read and scanned once; findings go to `events` as they
/// are made. Object-level problems are events; only an unusable repository or revision
/// is an error.
pub fn scan_history(
    repo_path: &Path,
    scanner: &Scanner,
    opts: &HistoryOptions,
    events: &dyn Events,
) -> Result<HistoryStats> {
    let started = Instant::now();
    let repo = open(repo_path)?;
    if repo.is_shallow() {
        events.error(
            ".",
            Problem::ShallowClone,
            "shallow clone: history before the shallow boundary is not scanned, and the \
             boundary commits are scanned whole",
        );
    }
    let loose = LooseObjects::list(repo.path());
    let packs = Packs::new(repo.path());
    let objs = Objects {
        repo: &repo,
        loose: &loose,
        packs: &packs,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .thread_name(|i| format!("leakscan-git-{i}"))
        // The pack pass recurses at each delta base with several deltas.
        .stack_size(32 << 20)
        .build()
        .map_err(|e| Error::Threads(e.to_string()))?;
    // A whole history reads most of the packs: commits now and blobs later in delta order,
    // each built once; the walk's trees one by one from the packs through a cache. A range
    // reads a few objects, one by one through libgit2.
    let forests: Vec<PackForest> = match opts.selection {
        Selection::Range(_) => Vec::new(),
        _ => pool.install(|| pack::open_all(packs.dir())),
    };
    let git_dir = repo.path().to_path_buf();
    let store = pool.install(|| TreeStore::fill(&forests, &git_dir));
    let commits = list_commits(objs, &store, &opts.selection, events)?;
    let repos = RepoPool::new(repo.path(), pool.current_num_threads(), loose);
    drop(repo);
    let mut stats = HistoryStats {
        commits: commits.len() as u64,
        ..HistoryStats::default()
    };
    let unreadable = AtomicU64::new(0);
    let submodules = std::sync::Mutex::new(std::collections::HashSet::new());

    // Phase 1: what each commit introduced. Commits are independent, so this parallelises.
    let per_commit: Vec<Vec<Added>> = pool.install(|| {
        commits
            .par_iter()
            .map(|&id| {
                let mut warn = |path: String, kind: Problem, msg: String| {
                    if kind == Problem::Submodule {
                        // Once per submodule path, not once per commit that moved it.
                        let at = path.split_once(':').map_or(&path[..], |(_, p)| p);
                        let mut seen = submodules.lock().unwrap_or_else(|e| e.into_inner());
                        if !seen.insert(at.to_owned()) {
                            return;
                        }
                    } else {
                        unreadable.fetch_add(1, Ordering::Relaxed);
                    }
                    events.error(&path, kind, &msg);
                };
                match repos.with(|r| introduced(r, &store, id, &mut warn)) {
                    Ok(Ok(added)) => added,
                    Ok(Err(e)) | Err(e) => {
                        warn(
                            super::label(Some(id), ""),
                            super::error_kind(&e),
                            e.message().to_owned(),
                        );
                        Vec::new()
                    }
                }
            })
            .collect()
    });

    // The walk's commits and tree cache sit in the store; the rest needs none of it.
    drop(store);
    // Group introductions by blob, in commit order (parents first), so the first entry of
    // each list is the earliest introduction.
    let mut by_blob: HashMap<Oid, Vec<Intro>> = HashMap::new();
    for (seq, added) in per_commit.into_iter().enumerate() {
        for a in added {
            stats.introductions += 1;
            by_blob.entry(a.blob).or_default().push(Intro {
                path: a.path.into_boxed_str(),
                commit: seq as u32,
            });
        }
    }
    let mut jobs: Vec<BlobJob> = by_blob
        .into_iter()
        .map(|(blob, intros)| BlobJob { blob, intros })
        .collect();
    // Successive versions of one file next to each other: workers take contiguous runs,
    // so a delta usually finds its base in libgit2's delta-base cache. (Pack order was
    // measured too: no faster with libgit2's small cache, and more resident memory.)
    jobs.sort_unstable_by(|a, b| {
        fn first(j: &BlobJob) -> Option<(&str, u32)> {
            j.intros.first().map(|i| (&*i.path, i.commit))
        }
        first(a).cmp(&first(b))
    });
    repos.close_all();
    stats.phases.walk = started.elapsed();
    let blobs_started = Instant::now();
    let clock = PhaseClock::default();
    let busy_ns = AtomicU64::new(0);
    let content = content_options(&opts.archive);
    let ctx = Blobs {
        scanner,
        commits: &commits,
        opts,
        content: &content,
        events,
        clock: &clock,
    };

    // Phase 2: read and scan each blob once: those in the packs as a pack pass builds
    // them, then the rest (loose, in alternates, too big, damaged) one by one.
    let scanned = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let skipped = AtomicU64::new(0);
    let tally =
        |job: &BlobJob, res: Result<Result<Option<u64>, git2::Error>, git2::Error>| match res {
            Ok(Ok(Some(n))) => {
                scanned.fetch_add(1, Ordering::Relaxed);
                bytes.fetch_add(n, Ordering::Relaxed);
            }
            Ok(Ok(None)) => {
                skipped.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Err(e)) | Err(e) => {
                unreadable.fetch_add(1, Ordering::Relaxed);
                let first = &job.intros[0];
                let commit = commits.get(first.commit as usize).copied();
                events.error(
                    &super::label(commit, &first.path),
                    super::error_kind(&e),
                    &format!("blob {}: {}", job.blob, e.message()),
                );
            }
        };
    let done: Vec<AtomicBool> = jobs.iter().map(|_| AtomicBool::new(false)).collect();
    if !forests.is_empty() {
        let index: HashMap<Oid, u32> = jobs
            .iter()
            .enumerate()
            .map(|(i, j)| (j.blob, i as u32))
            .collect();
        let limit = opts.max_blob_size.unwrap_or(u64::MAX);
        for f in &forests {
            let build = pool.install(|| {
                f.traverse(OBJ_BLOB, &|e| index.contains_key(&f.id(e)), &|e, data| {
                    let Some(&i) = index.get(&f.id(e)) else {
                        return true;
                    };
                    // Too big for the limit: the one-by-one pass says so.
                    if data.len() as u64 > limit || done[i as usize].swap(true, Ordering::AcqRel) {
                        return true;
                    }
                    let job = &jobs[i as usize];
                    let t = Instant::now();
                    let info = |c| repos.with(|r| super::commit_info(r, c)).unwrap_or_default();
                    let res = scan_blob_bytes(&ctx, job, data, &info);
                    let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    busy_ns.fetch_add(ns, Ordering::Relaxed);
                    tally(job, Ok(res));
                    true
                })
            });
            clock.add_read(build);
            busy_ns.fetch_add(
                u64::try_from(build.as_nanos()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
        }
    }
    pool.install(|| {
        jobs.par_iter().zip(&done).for_each(|(job, done)| {
            if done.load(Ordering::Acquire) {
                return;
            }
            let t = Instant::now();
            let res = repos.with(|r| scan_blob(r, &ctx, job));
            let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
            busy_ns.fetch_add(ns, Ordering::Relaxed);
            tally(job, res);
        })
    });
    stats.blobs = scanned.into_inner();
    stats.bytes = bytes.into_inner();
    stats.skipped = skipped.into_inner();
    stats.unreadable = unreadable.into_inner();
    stats.phases.blobs = blobs_started.elapsed();
    stats.phases.read = clock.read();
    stats.phases.scan = Duration::from_nanos(busy_ns.into_inner()).saturating_sub(clock.read());
    Ok(stats)
}
