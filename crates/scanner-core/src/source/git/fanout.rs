//! Reading one blob, scanning it once, and attributing its findings to every introduction.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use git2::Oid;

use super::objects::{io_error, Objects};
use super::stream::STREAM_FROM;
use super::{commit_info, HistoryOptions};
use crate::finding::{Finding, GitInfo, GitLocation};
use crate::origin::Origin;
use crate::problem::Problem;
use crate::scanner::Scanner;
use crate::source::archive::ArchiveLimits;
use crate::source::content::{gather, Gathered, Input};
use crate::source::fs::ScanOptions;
use crate::source::Events;

/// Thread time the blob phase of a history scan spent reading objects, summed over workers.
#[derive(Default)]
pub(crate) struct PhaseClock {
    read_ns: AtomicU64,
}

impl PhaseClock {
    pub(crate) fn add_read(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.read_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Reading (and inflating) time so far.
    pub(crate) fn read(&self) -> Duration {
        Duration::from_nanos(self.read_ns.load(Ordering::Relaxed))
    }
}

/// One place a blob was introduced.
pub(crate) struct Intro {
    /// Path at the introducing commit.
    pub path: Box<str>,
    /// Index of the introducing commit in the scan's commit list (parents first).
    pub commit: u32,
}

/// A distinct blob and every introduction of it, earliest first.
pub(crate) struct BlobJob {
    /// The blob.
    pub blob: Oid,
    /// Never empty: a job exists because something introduced the blob.
    pub intros: Vec<Intro>,
}

/// What every blob job of one history scan shares.
pub(crate) struct Blobs<'a> {
    pub scanner: &'a Scanner,
    /// The scan's commits, parents first (`Intro::commit` indexes it).
    pub commits: &'a [Oid],
    pub opts: &'a HistoryOptions,
    pub content: &'a ScanOptions,
    pub events: &'a dyn Events,
    pub clock: &'a PhaseClock,
}

/// Reads and scans `job`'s blob; reports its findings, attributed, through `events`.
/// Returns the bytes scanned, or `None` when the blob was skipped for size. Findings made
/// before a read error are reported before the error is returned.
pub(crate) fn scan_blob(
    objs: Objects<'_>,
    ctx: &Blobs<'_>,
    job: &BlobJob,
) -> Result<Option<u64>, git2::Error> {
    let Blobs {
        scanner,
        commits,
        opts,
        content,
        events,
        ..
    } = *ctx;
    let Some(first) = job.intros.first() else {
        return Ok(Some(0));
    };
    let label = || super::label(commits.get(first.commit as usize).copied(), &first.path);
    let Some(size) = sized(objs, job.blob, opts.max_blob_size, &label, events)? else {
        return Ok(None);
    };
    let scanned = scan_object(objs, scanner, content, job.blob, size, &first.path);
    report(ctx, job, scanned, &|c| commit_info(objs, c))
}

/// Scans `job`'s blob from `data`, its content already in memory (built by a pack pass);
/// `info` gives a commit's attribution fields when there are findings.
pub(crate) fn scan_blob_bytes(
    ctx: &Blobs<'_>,
    job: &BlobJob,
    data: &[u8],
    info: &dyn Fn(Oid) -> GitInfo,
) -> Result<Option<u64>, git2::Error> {
    let Some(first) = job.intros.first() else {
        return Ok(Some(0));
    };
    let origin = Origin::path(&*first.path);
    let found = gather(ctx.scanner, ctx.content, Input::Bytes(data), &origin);
    let read = Ok(found.bytes);
    let scanned = Scanned {
        found,
        read,
        read_time: Duration::ZERO,
    };
    report(ctx, job, scanned, info)
}

/// Reports what scanning `job`'s blob found, each finding attributed to every
/// introduction, and returns the bytes scanned (or the read error, after the findings).
fn report(
    ctx: &Blobs<'_>,
    job: &BlobJob,
    scanned: Scanned,
    info: &dyn Fn(Oid) -> GitInfo,
) -> Result<Option<u64>, git2::Error> {
    let Blobs {
        commits,
        events,
        clock,
        ..
    } = *ctx;
    let Some(first) = job.intros.first() else {
        return Ok(Some(0));
    };
    let commit_of = |i: &Intro| commits.get(i.commit as usize).copied();
    let Scanned {
        found,
        read,
        read_time,
    } = scanned;
    clock.add_read(read_time);
    for (path, kind, msg) in &found.problems {
        events.error(&super::label(commit_of(first), path), *kind, msg);
    }
    events.suppressed(found.suppressed);
    let findings = found.findings;
    if !findings.is_empty() {
        let infos: Vec<_> = job
            .intros
            .iter()
            .map(|i| match commit_of(i) {
                Some(c) => info(c),
                None => Default::default(),
            })
            .collect();
        for mut f in findings {
            attribute(&mut f, job, &infos);
            events.finding(f);
        }
    }
    let n = read?;
    events.scanned(&first.path, n);
    Ok(Some(n))
}

/// The size of blob `id`, or `None` (reported as `too-large` under `label()`) when it is
/// above `limit`.
pub(crate) fn sized(
    objs: Objects<'_>,
    id: Oid,
    limit: Option<u64>,
    label: &dyn Fn() -> String,
    events: &dyn Events,
) -> Result<Option<u64>, git2::Error> {
    let size = objs.blob_size(id)?;
    match limit {
        Some(limit) if size > limit => {
            events.error(
                &label(),
                Problem::TooLarge,
                &format!("blob {id} is {size} bytes (limit {limit}), not scanned"),
            );
            Ok(None)
        }
        _ => Ok(Some(size)),
    }
}

/// What reading and scanning one blob gave: its findings and problems, and the bytes
/// scanned or the error that stopped the read (findings before it are kept).
pub(crate) struct Scanned {
    /// Findings and problems (archive members' problems name the member).
    pub found: Gathered,
    /// Bytes scanned, or why the blob could not be read (in full).
    pub read: Result<u64, git2::Error>,
    /// Time spent reading the object: finding it, inflating it, resolving its deltas.
    pub read_time: Duration,
}

/// A reader that keeps the time spent inside it: what a stream's inflating costs, apart
/// from the scan that consumes it.
struct Timed<R> {
    inner: R,
    spent: Duration,
}

impl<R: Read> Read for Timed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let t = Instant::now();
        let n = self.inner.read(buf);
        self.spent += t.elapsed();
        n
    }
}

/// Scans blob `id` (`size` bytes) as `path` through the same content layer as files, so
/// an archive, a gzip'd log or a UTF-16 file committed to the repository is opened: held
/// whole when small, streamed when big, so memory stays bounded whatever its size.
pub(crate) fn scan_object(
    objs: Objects<'_>,
    scanner: &Scanner,
    content: &ScanOptions,
    id: Oid,
    size: u64,
    path: &str,
) -> Scanned {
    let origin = Origin::path(path);
    let t = Instant::now();
    let (mut found, read_time) = if size >= STREAM_FROM {
        match objs.blob_stream(id) {
            Ok(Some(reader)) => {
                let opened = t.elapsed();
                let mut timed = Timed {
                    inner: reader,
                    spent: opened,
                };
                let found = gather(scanner, content, Input::Stream(&mut timed), &origin);
                (found, timed.spent)
            }
            Ok(None) => return whole(objs, scanner, content, id, &origin),
            Err(e) => return failed(e, t.elapsed()),
        }
    } else {
        return whole(objs, scanner, content, id, &origin);
    };
    // A read error of the blob itself (not of a member inside it) is a damaged object.
    let read = match found
        .problems
        .iter()
        .position(|(p, kind, _)| p == path && *kind == Problem::ReadError)
    {
        Some(i) => {
            let (_, _, msg) = found.problems.remove(i);
            Err(io_error(id, &std::io::Error::other(msg)))
        }
        None => Ok(found.bytes),
    };
    Scanned {
        found,
        read,
        read_time,
    }
}

/// Reads blob `id` whole (small, or deltified: libgit2 resolves deltas) and scans it.
fn whole(
    objs: Objects<'_>,
    scanner: &Scanner,
    content: &ScanOptions,
    id: Oid,
    origin: &Origin,
) -> Scanned {
    let t = Instant::now();
    match objs.blob(id) {
        Ok(blob) => {
            let read_time = t.elapsed();
            let found = gather(scanner, content, Input::Bytes(blob.content()), origin);
            let read = Ok(found.bytes);
            Scanned {
                found,
                read,
                read_time,
            }
        }
        Err(e) => failed(e, t.elapsed()),
    }
}

fn failed(e: git2::Error, read_time: Duration) -> Scanned {
    Scanned {
        found: Gathered::default(),
        read: Err(e),
        read_time,
    }
}

/// The content-layer options for blobs: archives opened within `archive`'s limits; never
/// memory-mapped (blobs are not files), streamed from the same size as before.
pub(crate) fn content_options(archive: &ArchiveLimits) -> ScanOptions {
    ScanOptions {
        archive: archive.clone(),
        mmap: false,
        threads: 1,
        in_memory_limit: STREAM_FROM as usize,
        ..ScanOptions::default()
    }
}

/// Earliest introduction as the finding's own path and commit, the rest in `also_in`. A
/// finding inside an archive keeps its member part (`blob.zip!/member`) under every path.
fn attribute(f: &mut Finding, job: &BlobJob, infos: &[crate::finding::GitInfo]) {
    let member = job
        .intros
        .first()
        .and_then(|first| f.path.strip_prefix(&*first.path))
        .unwrap_or("")
        .to_owned();
    let mut places = job.intros.iter().zip(infos);
    if let Some((first, info)) = places.next() {
        f.path = format!("{}{member}", first.path);
        f.git = Some(info.clone());
    }
    f.also_in = places
        .map(|(i, info)| GitLocation {
            path: format!("{}{member}", i.path),
            git: info.clone(),
        })
        .collect();
    f.refresh_fingerprint();
}
