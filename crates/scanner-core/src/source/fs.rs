//! File trees and standard input, scanned on all cores.
//!
//! The walk uses the `ignore` crate (ripgrep's walker) with its filters off: `.gitignore`/
//! `.ignore` are honoured unless [`ScanOptions::no_ignore`], hidden entries are skipped
//! unless [`ScanOptions::hidden`], and [`ScanOptions::exclude`] globs (gitignore syntax,
//! matched against the path as reported) drop more — decided by
//! [`walk_filter`](super::walk_filter) so that each entry left out is reported (`ignored`,
//! `hidden`, `excluded`; a directory once). Each walker thread scans what it visits and
//! keeps one read buffer for its whole life. Files up to [`ScanOptions::in_memory_limit`]
//! are read whole; bigger ones go through [`Scanner::scan_reader`] in bounded memory.
//! Archives, UTF-16 text and Slack exports are recognised by content (see
//! [`archive`](super::archive), [`slack`](super::slack)). Nothing is ever written.
//!
//! Symbolic links are followed (Kubernetes' `/var/log/containers` is all links); every
//! input that is not (fully) scanned is reported through [`Events::error`] with one of the
//! kinds `permission-denied`, `not-found`, `broken-symlink`, `symlink-loop`, `fifo`,
//! `device`, `socket`, `too-large`, `binary`, `read-error`, `walk-error`, `hidden`,
//! `ignored`, `excluded`, or an archive kind,
//! and the scan goes on.
//!
//! Paths are reported as the walk reaches them from the root argument as given
//! (`logs/app.log` for the root `logs`, `app.log` for `.`), `/`-separated.

use std::collections::BTreeMap;
use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};

use ignore::overrides::OverrideBuilder;
use ignore::{DirEntry, WalkBuilder, WalkState};
use std::sync::Arc;

use crate::origin::Origin;
use crate::problem::Problem;
use crate::scanner::Scanner;
use crate::source::archive::ArchiveLimits;
use crate::source::content::{read_up_to, Ctx};
use crate::source::mapped;
use crate::source::slack::{self, DirExports};
use crate::source::walk_filter::EntryFilter;
use crate::source::Events;

/// What a file-tree scan looks at and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Scan files that `.gitignore` / `.ignore` exclude (default: yes — an ignored `.env`
    /// is still a token on disk).
    pub no_ignore: bool,
    /// Scan hidden files and directories (default: yes — `.kube/config`, `.env` and
    /// `.bash_history` are where tokens sit). Version-control internals are never walked.
    pub hidden: bool,
    /// Globs (gitignore syntax) of paths to skip.
    pub exclude: Vec<String>,
    /// Files larger than this are skipped and reported as `too-large`.
    pub max_file_size: u64,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Follow symbolic links (loops and dangling links are reported).
    pub follow_symlinks: bool,
    /// Inputs up to this size are held in memory whole; bigger ones are streamed in chunks.
    pub in_memory_limit: usize,
    /// Memory-map regular files of 1 MiB and more instead of reading them (see
    /// [`mapped`](super::mapped) for why and for the SIGBUS caveat).
    pub mmap: bool,
    /// Bytes of a mapped file scanned per window (windows of one file run in parallel).
    pub window: usize,
    /// Archive depth and anti-bomb limits.
    pub archive: ArchiveLimits,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            no_ignore: true,
            hidden: true,
            exclude: Vec::new(),
            max_file_size: 10 << 30,
            threads: 0,
            follow_symlinks: true,
            in_memory_limit: 8 << 20,
            mmap: true,
            window: 8 << 20,
            archive: ArchiveLimits::default(),
        }
    }
}

/// Counters of one scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanStats {
    /// Inputs scanned completely (files and archive members).
    pub files: u64,
    /// Bytes scanned (decompressed, transcoded).
    pub bytes: u64,
    /// Inputs left out on purpose ([`Class::Skipped`](crate::Class::Skipped): binary,
    /// links not followed, special files in a tree).
    pub skipped: u64,
    /// Inputs not read in full ([`Class::Incomplete`](crate::Class::Incomplete): unreadable,
    /// corrupt, too large, encrypted, zip bombs ...).
    pub errors: u64,
    /// Skipped and failed inputs by kind.
    pub by_kind: BTreeMap<String, u64>,
}

/// What stops a file-tree scan before it starts; problems with single inputs are events.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An `exclude` glob does not parse.
    #[error("invalid exclude glob {glob:?}: {reason}")]
    Glob {
        /// The glob as given.
        glob: String,
        /// Why it is invalid.
        reason: String,
    },
}

/// Files smaller than this are read: mapping costs more than copying a few pages.
const MMAP_MIN: u64 = 1 << 20;

/// Scans files, directories and (for `-`) standard input, reporting through `events`.
pub fn scan_paths(
    paths: &[PathBuf],
    scanner: &Scanner,
    opts: &ScanOptions,
    events: &dyn Events,
) -> Result<ScanStats, Error> {
    let mut ctx = Ctx::new(scanner, opts, events);
    let (stdin, roots): (Vec<&PathBuf>, Vec<&PathBuf>) =
        paths.iter().partition(|p| p.as_os_str() == "-");
    if !stdin.is_empty() {
        let mut input = io::stdin().lock();
        ctx.scan_stream(&mut input, &Origin::path("-"), 0, None);
    }
    // SPEC: paths are relative to the scan root, which keeps fingerprints (and baselines)
    // the same wherever the checkout lives. With several roots the paths stay as given, so
    // that equal names under different roots remain distinct.
    if let [only] = roots.as_slice() {
        if only.is_dir() {
            ctx.root = Some(only.to_path_buf());
        }
    }
    let ctx = ctx;
    if let Some((first, rest)) = roots.split_first() {
        let mut walk = WalkBuilder::new(first);
        for r in rest {
            walk.add(r);
        }
        // Hidden entries, ignore files and `exclude` are decided by `EntryFilter`, not by
        // the walker, so that every entry left out is counted and listed.
        walk.standard_filters(false)
            .follow_links(opts.follow_symlinks)
            .threads(opts.threads);
        let exclude = if opts.exclude.is_empty() {
            None
        } else {
            let mut ob = OverrideBuilder::new("");
            for g in &opts.exclude {
                ob.add(&format!("!{g}")).map_err(|e| Error::Glob {
                    glob: g.clone(),
                    reason: e.to_string(),
                })?;
            }
            Some(ob.build().map_err(|e| Error::Glob {
                glob: opts.exclude.join(" "),
                reason: e.to_string(),
            })?)
        };
        let filter = Arc::new(EntryFilter::new(
            exclude,
            !opts.hidden,
            !opts.no_ignore,
            &roots,
        ));
        let keep = filter.clone();
        // Object stores hold the history `leakscan git` reads properly (decompressed,
        // attributed); walking them as files would only see zlib streams. They are not
        // content, so they are not counted either.
        walk.filter_entry(move |e| e.depth() == 0 || !is_vcs_dir(e) && keep.keep(e));
        let slack = DirExports::default();
        let (ctx, slack) = (&ctx, &slack);
        walk.build_parallel().run(|| {
            let mut buf = Vec::new();
            Box::new(move |res| {
                match res {
                    Ok(entry) => visit(ctx, slack, &entry, &mut buf),
                    Err(e) => walk_error(ctx, &e, None),
                }
                WalkState::Continue
            })
        });
        for skip in filter.take_skipped() {
            ctx.report(&rel_label(ctx, &skip.path), skip.kind, &skip.why);
        }
    }
    let (files, bytes, skipped, errors, by_kind) = ctx.totals();
    Ok(ScanStats {
        files,
        bytes,
        skipped,
        errors,
        by_kind,
    })
}

/// The label of a walked path: relative to the scan root when there is one root directory,
/// else as reached from the root argument.
fn rel_label(ctx: &Ctx<'_>, path: &Path) -> String {
    match ctx.root.as_deref().and_then(|r| path.strip_prefix(r).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => label(rel),
        _ => label(path),
    }
}

/// The label of a path: as reached from the root argument, without `./`, `/`-separated.
fn label(path: &Path) -> String {
    let s = path.to_string_lossy();
    let mut s: &str = &s;
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.trim_start_matches('/');
    }
    if cfg!(windows) {
        s.replace('\\', "/")
    } else {
        s.to_owned()
    }
}

/// Scans one walked entry.
fn visit(ctx: &Ctx<'_>, slack: &DirExports, entry: &DirEntry, buf: &mut Vec<u8>) {
    let Some(ft) = entry.file_type() else {
        return;
    };
    if ft.is_dir() {
        return;
    }
    let path = entry.path();
    let name = rel_label(ctx, path);
    if ft.is_symlink() {
        // Only reached when links are not followed.
        return ctx.report(&name, Problem::Symlink, "symbolic link, not followed");
    }
    if let Some(kind) = special_kind(&ft) {
        // A FIFO named on the command line (`<(cmd)`) is read; one met in a tree is not:
        // opening it could block forever.
        if !(kind == Problem::Fifo && entry.depth() == 0) {
            let msg = format!("{kind}, not a regular file; not scanned");
            return ctx.report(&name, kind, &msg);
        }
    }
    let meta = match entry.metadata() {
        Ok(m) => m,
        Err(e) => return walk_error(ctx, &e, Some(path)),
    };
    scan_file(ctx, slack, path, &name, &meta, buf);
}

/// Whether `e` is a version-control directory (`.git`, `.hg`, `.svn`).
fn is_vcs_dir(e: &ignore::DirEntry) -> bool {
    e.file_type().is_some_and(|t| t.is_dir())
        && matches!(e.file_name().to_str(), Some(".git" | ".hg" | ".svn"))
}

/// Which special file (not regular, not a directory) a file type is.
fn special_kind(ft: &std::fs::FileType) -> Option<Problem> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Some(Problem::Fifo);
        }
        if ft.is_char_device() || ft.is_block_device() {
            return Some(Problem::Device);
        }
        if ft.is_socket() {
            return Some(Problem::Socket);
        }
    }
    (!ft.is_file()).then_some(Problem::Device)
}

/// Reads and scans one file: whole when small, streamed when big.
fn scan_file(
    ctx: &Ctx<'_>,
    slack: &DirExports,
    path: &Path,
    name: &str,
    meta: &Metadata,
    buf: &mut Vec<u8>,
) {
    if meta.is_file() && meta.len() > ctx.opts.max_file_size {
        let msg = format!(
            "{} bytes, larger than the maximum file size ({} bytes); not scanned",
            meta.len(),
            ctx.opts.max_file_size
        );
        return ctx.report(name, Problem::TooLarge, &msg);
    }
    let opened = if is_fifo(meta) {
        open_fifo(path, FIFO_WAIT)
    } else {
        File::open(path).map(Some)
    };
    let mut file = match opened {
        Ok(Some(f)) => f,
        Ok(None) => {
            let msg = format!(
                "named pipe with no writer for {} s; not read",
                FIFO_WAIT.as_secs()
            );
            return ctx.report(name, Problem::FifoNoWriter, &msg);
        }
        Err(e) => return io_error(ctx, name, path, &e),
    };
    let origin = Origin::path(name);
    let slack_day = slack.lookup(ctx, path);
    if ctx.opts.mmap
        && slack_day.is_none()
        && meta.is_file()
        && meta.len() >= MMAP_MIN
        && mapped::scan_file(ctx, &file, meta.len(), &origin)
    {
        return;
    }
    let limit = ctx.opts.in_memory_limit;
    buf.clear();
    if let Err(e) = read_up_to(&mut file, buf, limit + 1) {
        return io_error(ctx, name, path, &e);
    }
    if buf.len() > limit {
        let (head, file_ref) = (&buf[..], &mut file);
        let mut rest = match file_ref.try_clone() {
            Ok(f) => f,
            Err(e) => return io_error(ctx, name, path, &e),
        };
        ctx.scan_big(head, &mut rest, Some(file_ref), &origin, 0, None);
        let now = file.metadata().map_or(meta.len(), |m| m.len());
        return shrunk(ctx, name, meta, now);
    }
    if let Some((users, channel, date)) = slack_day {
        if slack::scan_dir_day(ctx, buf, &origin, &users, channel, date) {
            return;
        }
    }
    ctx.scan_buffer(buf, &origin, 0, None);
    shrunk(ctx, name, meta, buf.len() as u64);
    // A buffer grown for one big file is not kept for the thread's lifetime.
    if buf.capacity() > 2 * limit + 2 {
        *buf = Vec::new();
    }
}

/// How long a named pipe given as an argument may go without a writer before it is given up.
const FIFO_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn is_fifo(meta: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        meta.file_type().is_fifo()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// Opens a named pipe without blocking on a writer that never comes (a plain `open` waits
/// forever): waits up to `wait` for the first data or hang-up, then reads it blocking, like
/// any stream. `None` when no writer showed up.
#[cfg(unix)]
fn open_fifo(path: &Path, wait: std::time::Duration) -> io::Result<Option<File>> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let fd = file.as_raw_fd();
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: one valid pollfd; fcntl on a descriptor this function owns.
    let ready = unsafe { libc::poll(&mut pfd, 1, ms) };
    if ready < 0 {
        return Err(io::Error::last_os_error());
    }
    if ready == 0 {
        return Ok(None);
    }
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(Some(file))
}

#[cfg(not(unix))]
fn open_fifo(path: &Path, _wait: std::time::Duration) -> io::Result<Option<File>> {
    File::open(path).map(Some)
}

/// Reports a regular file that ended before the length it had when it was opened (it was
/// truncated while being read): scanned up to the cut, and said so.
fn shrunk(ctx: &Ctx<'_>, name: &str, meta: &Metadata, got: u64) {
    if meta.is_file() && got < meta.len() {
        let msg = format!(
            "the file shrank from {} to {got} bytes while it was being read (log rotation?); \
             the rest was not scanned",
            meta.len()
        );
        ctx.report(name, Problem::Truncated, &msg);
    }
}

/// Reports an I/O error on one file with the kind that names its cause.
fn io_error(ctx: &Ctx<'_>, name: &str, path: &Path, e: &io::Error) {
    let kind = match e.kind() {
        io::ErrorKind::PermissionDenied => Problem::PermissionDenied,
        io::ErrorKind::NotFound if is_symlink(path) => Problem::BrokenSymlink,
        io::ErrorKind::NotFound => Problem::NotFound,
        _ if e.raw_os_error() == Some(ELOOP) => Problem::SymlinkLoop,
        _ => Problem::ReadError,
    };
    ctx.report(name, kind, &e.to_string());
}

/// `ELOOP` on Linux and the BSDs/macOS (too many levels of symbolic links).
const ELOOP: i32 = if cfg!(target_os = "linux") { 40 } else { 62 };

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Reports an error of the walk itself (unreadable directory, loop, dangling link).
fn walk_error(ctx: &Ctx<'_>, err: &ignore::Error, path: Option<&Path>) {
    match err {
        ignore::Error::WithPath { path, err } => walk_error(ctx, err, Some(path)),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(ctx, err, path)
        }
        ignore::Error::Partial(errs) => {
            for e in errs {
                walk_error(ctx, e, path);
            }
        }
        ignore::Error::Loop { ancestor, child } => {
            let msg = format!(
                "symbolic link loop: {} leads back to {}",
                rel_label(ctx, child),
                rel_label(ctx, ancestor)
            );
            ctx.report(&rel_label(ctx, child), Problem::SymlinkLoop, &msg);
        }
        ignore::Error::Io(e) => {
            let p = path.unwrap_or(Path::new(""));
            io_error(ctx, &rel_label(ctx, p), p, e);
        }
        other => {
            let p = path.map(|p| rel_label(ctx, p)).unwrap_or_default();
            ctx.report(&p, Problem::WalkError, &other.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(label(Path::new("./a/b.txt")), "a/b.txt");
        assert_eq!(label(Path::new(".//a")), "a");
        assert_eq!(label(Path::new("logs/x.log")), "logs/x.log");
        assert_eq!(label(Path::new("/abs/x")), "/abs/x");
    }
}
