//! Reading one blob, scanning it once, and attributing its findings to every introduction.

use git2::Oid;

use super::objects::Objects;
use super::{commit_info, HistoryOptions};
use crate::finding::{Finding, GitLocation};
use crate::origin::Origin;
use crate::problem::Problem;
use crate::scanner::Scanner;
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
/// Returns the bytes scanned, or `None` when the blob was skipped for size.
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
    if let Some(limit) = opts.max_blob_size {
        let size = objs.size(job.blob)?;
        if size as u64 > limit {
            events.error(
                &super::label(commit_of(first), &first.path),
                Problem::TooLarge,
                &format!("blob {} is {size} bytes (limit {limit})", job.blob),
            );
            return Ok(None);
        }
    }
    let blob = objs.blob(job.blob)?;
    let data = blob.content();
    let origin = Origin::path(first.path.to_string());
    let findings = scanner.scan_bytes(data, &origin);
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
    events.scanned(&first.path, data.len() as u64);
    Ok(Some(data.len() as u64))
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

/// Scans one in-memory blob at `path` and returns its findings, unattributed.
pub(crate) fn scan_plain(scanner: &Scanner, data: &[u8], path: &str) -> Vec<Finding> {
    scanner.scan_bytes(data, &Origin::path(path))
}
