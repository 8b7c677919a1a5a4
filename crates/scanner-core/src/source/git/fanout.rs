//! Reading one blob, scanning it once, and attributing its findings to every introduction.

use git2::Oid;

use super::objects::{io_error, Objects};
use super::stream::STREAM_FROM;
use super::{commit_info, HistoryOptions};
use crate::finding::{Finding, GitLocation};
use crate::origin::Origin;
use crate::problem::Problem;
use crate::scanner::Scanner;
use crate::sink::Collected;
use crate::source::Events;

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

/// Reads and scans `job`'s blob; reports its findings, attributed, through `events`.
/// Returns the bytes scanned, or `None` when the blob was skipped for size. Findings made
/// before a read error are reported before the error is returned.
pub(crate) fn scan_blob(
    objs: Objects<'_>,
    scanner: &Scanner,
    job: &BlobJob,
    commits: &[Oid],
    opts: &HistoryOptions,
    events: &dyn Events,
) -> Result<Option<u64>, git2::Error> {
    let Some(first) = job.intros.first() else {
        return Ok(Some(0));
    };
    let commit_of = |i: &Intro| commits.get(i.commit as usize).copied();
    let label = || super::label(commit_of(first), &first.path);
    let Some(size) = sized(objs, job.blob, opts.max_blob_size, &label, events)? else {
        return Ok(None);
    };
    let mut found = Collected::default();
    let read = scan_object(objs, scanner, job.blob, size, &first.path, &mut found);
    for (kind, msg) in &found.problems {
        events.error(&label(), *kind, msg);
    }
    let findings = found.findings;
    if !findings.is_empty() {
        let infos: Vec<_> = job
            .intros
            .iter()
            .map(|i| match commit_of(i) {
                Some(c) => commit_info(objs, c),
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

/// Scans blob `id` (`size` bytes) as `path` into `out`: held whole when small, streamed
/// when big, so memory stays bounded whatever its size. Returns the bytes scanned; on a
/// read error, what was found before it is in `out`.
pub(crate) fn scan_object(
    objs: Objects<'_>,
    scanner: &Scanner,
    id: Oid,
    size: u64,
    path: &str,
    out: &mut Collected,
) -> Result<u64, git2::Error> {
    let origin = Origin::path(path);
    if size >= STREAM_FROM {
        if let Some(reader) = objs.blob_stream(id)? {
            return scanner
                .scan_reader(reader, &origin, out)
                .map_err(|e| io_error(id, &e));
        }
    }
    let blob = objs.blob(id)?;
    scanner.scan_bytes_with(blob.content(), &origin, out);
    Ok(blob.content().len() as u64)
}

/// Earliest introduction as the finding's own path and commit, the rest in `also_in`.
fn attribute(f: &mut Finding, job: &BlobJob, infos: &[crate::finding::GitInfo]) {
    let mut places = job.intros.iter().zip(infos);
    if let Some((first, info)) = places.next() {
        f.path = first.path.to_string();
        f.git = Some(info.clone());
    }
    f.also_in = places
        .map(|(i, info)| GitLocation {
            path: i.path.to_string(),
            git: info.clone(),
        })
        .collect();
    f.refresh_fingerprint();
}
