//! Git sources: the full history of every ref, a commit range, or the staged index.
//!
//! History scans read each distinct blob exactly once and attribute every finding to the
//! commit that *introduced* that blob at that path: a commit whose tree holds the blob at
//! the path while none of its parents does. That rule catches content a merge commit adds
//! itself, and never blames a merge for content that came from a side branch.
//!
//! A blob that was introduced more than once (copied, renamed, re-added, on two branches)
//! yields one finding per secret: `path` and `git` name the earliest introduction in
//! topological order (parents before children, older first), and `also_in` lists every other
//! introduction in the same order. The fingerprint uses the earliest path, so it is stable
//! across re-clones and later renames.
//!
//! Missing or corrupt objects (a partial mirror, a shallow clone's boundary) are reported
//! through [`Events::error`](crate::source::Events::error) and the scan goes on.

mod diff;
mod fanout;
mod history;
mod lookup;
mod objects;
mod pack;
mod raw;
pub mod remote;
mod staged;
mod stream;
#[cfg(test)]
mod test_git;
mod walk;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

use git2::{Oid, Repository, RepositoryOpenFlags};

use crate::finding::GitInfo;
use crate::problem::Problem;
use objects::{LooseObjects, Objects};
use stream::Packs;

pub use history::{scan_history, HistoryOptions, HistoryStats, Selection};
pub use staged::{scan_staged, scan_staged_with, StagedOptions, StagedStats};

/// What can stop a git scan before it starts; problems with single objects are events.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path is not a git repository (or could not be opened).
    #[error("opening git repository {path}: {source}")]
    Open {
        /// What was asked for.
        path: PathBuf,
        /// libgit2's reason.
        #[source]
        source: git2::Error,
    },
    /// A `--range`, `--since-commit` or `--branch` value names nothing.
    #[error("resolving {spec:?}: {source}")]
    Revision {
        /// The revision or range as given.
        spec: String,
        /// libgit2's reason.
        #[source]
        source: git2::Error,
    },
    /// A range was expected (`BASE..HEAD`).
    #[error("{0:?} is not a range: expected BASE..HEAD")]
    NotARange(String),
    /// A bare `--range BASE` (meaning `BASE..HEAD`) that selects nothing, e.g. `--range
    /// HEAD`: almost surely not what was meant, and it would pass every check unscanned.
    #[error(
        "--range {0} selects no commits: a bare BASE means BASE..HEAD; to scan the history \
         of {0} use --branch {0}"
    )]
    EmptyBareRange(String),
    /// The repository has no index (bare) or it could not be read.
    #[error("reading the index: {0}")]
    Index(#[source] git2::Error),
    /// Walking the commit graph failed outright.
    #[error("walking history: {0}")]
    Walk(#[source] git2::Error),
    /// The worker thread pool could not be started.
    #[error("starting worker threads: {0}")]
    Threads(String),
}

/// Result alias for git sources.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Opens the repository at or above `path` (work tree or bare git directory).
pub(crate) fn open(path: &Path) -> Result<Repository> {
    tune_libgit2();
    Repository::open_ext(
        path,
        RepositoryOpenFlags::empty(),
        std::iter::empty::<&str>(),
    )
    .map_err(|source| Error::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// Raw bytes of trees and commits all handles together may cache (each handle has its own
/// cache; libgit2 budgets raw sizes, and parsed trees take about twice that in memory).
const TREE_CACHE_TOTAL: usize = 64 << 20;
/// Smallest per-handle budget worth having: the walk re-reads trees, and below this most
/// of them fall out of the cache before their second read.
const TREE_CACHE_MIN: usize = 8 << 20;

/// Sets libgit2's process-wide knobs once, so memory stays bounded however long the
/// history: bounded pack mappings (RSS does not grow with the pack files) and a small tree
/// cache. libgit2's default cache (256 MB per handle, sized by raw object bytes) reached
/// 500 MB on prometheus with its pull-request refs; none at all made the history walk 1.8x
/// slower (every tree inflated again as the next commit's parent tree). Measured on the
/// prometheus corpus, 2 cores: walk 1.8 s -> 1.0 s, whole scan 5.0 s -> 4.2 s, peak RSS
/// 100 -> 200 MB (260 MB on the bare mirror with 13k pull-request refs). Also no SHA-1
/// re-hashing of every object read: zlib's own checksum still catches corrupt data, and
/// `git cat-file` does not re-hash either.
fn tune_libgit2() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        git2::opts::strict_hash_verification(false);
        // Trees and commits are cached (the history walk reads every tree twice: as a
        // commit's and as its child's parent tree); blobs are not (each is read once).
        git2::opts::enable_caching(true);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per_handle = (TREE_CACHE_TOTAL / cores).max(TREE_CACHE_MIN);
        // SAFETY: these only store integers in libgit2's global settings; they are called
        // once, before this process opens any repository through this module.
        unsafe {
            let _ = git2::opts::set_mwindow_size(32 << 20);
            let _ = git2::opts::set_mwindow_mapped_limit(128 << 20);
            let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Blob, 0);
            let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 1 << 20);
            let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Commit, 64 << 10);
            // git2 has no wrapper for the cache budget; the option takes an ssize_t.
            libgit2_sys::git_libgit2_opts(
                libgit2_sys::GIT_OPT_SET_CACHE_MAX_SIZE as std::ffi::c_int,
                per_handle as isize,
            );
        }
    });
}

/// One repository handle per worker thread (`git2::Repository` is `Send` but not `Sync`).
pub(crate) struct RepoPool {
    git_dir: PathBuf,
    slots: Vec<Mutex<Option<Repository>>>,
    loose: LooseObjects,
    packs: Packs,
}

impl RepoPool {
    /// A pool for `threads` workers over the repository whose git directory is `git_dir`.
    pub(crate) fn new(git_dir: &Path, threads: usize, loose: LooseObjects) -> RepoPool {
        RepoPool {
            git_dir: git_dir.to_path_buf(),
            slots: (0..threads.max(1)).map(|_| Mutex::new(None)).collect(),
            loose,
            packs: Packs::new(git_dir),
        }
    }

    /// Closes every handle, freeing libgit2's per-repository object caches (the trees and
    /// commits of the history walk); handles reopen on next use.
    pub(crate) fn close_all(&self) {
        for slot in &self.slots {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// Runs `f` with the calling worker's own handle, opening it on first use.
    pub(crate) fn with<T>(&self, f: impl FnOnce(Objects<'_>) -> T) -> Result<T, git2::Error> {
        let i = rayon::current_thread_index().unwrap_or(0) % self.slots.len();
        // Each slot is only ever used by one worker, so the lock is uncontended; a poisoned
        // slot just means an earlier panic, and the handle in it is still usable.
        let mut slot = self.slots[i].lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(Repository::open(&self.git_dir)?);
        }
        match slot.as_ref() {
            Some(repo) => Ok(f(Objects {
                repo,
                loose: &self.loose,
                packs: &self.packs,
            })),
            None => Err(git2::Error::from_str("repository handle unavailable")),
        }
    }
}

/// The attribution fields of a commit, as findings carry them.
pub(crate) fn commit_info(objs: Objects<'_>, id: Oid) -> GitInfo {
    let mut info = GitInfo {
        commit: id.to_string(),
        ..GitInfo::default()
    };
    if let Ok(c) = objs.commit(id) {
        let author = c.author();
        info.author_name = String::from_utf8_lossy(author.name_bytes()).into_owned();
        info.author_email = String::from_utf8_lossy(author.email_bytes()).into_owned();
        info.date = rfc3339(author.when());
        info.message = String::from_utf8_lossy(c.message_bytes())
            .lines()
            .next()
            .unwrap_or("")
            .trim_end()
            .to_owned();
    }
    info
}

/// A git time (seconds + the author's UTC offset) as RFC 3339 in that offset.
fn rfc3339(t: git2::Time) -> String {
    use time::format_description::well_known::Rfc3339;
    let offset = time::UtcOffset::from_whole_seconds(t.offset_minutes() * 60)
        .unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(t.seconds())
        .map(|d| d.to_offset(offset))
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The warning kind for an object libgit2 could not read: absent, or present but unreadable.
pub(crate) fn error_kind(e: &git2::Error) -> Problem {
    if e.code() == git2::ErrorCode::NotFound {
        Problem::MissingObject
    } else {
        Problem::CorruptObject
    }
}

/// A short label for warnings about an object: `abbrev-commit:path` or the object id.
pub(crate) fn label(commit: Option<Oid>, path: &str) -> String {
    match commit {
        Some(c) => {
            let s = c.to_string();
            format!("{}:{path}", &s[..s.len().min(12)])
        }
        None => path.to_owned(),
    }
}
