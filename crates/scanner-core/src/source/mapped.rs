//! Big files memory-mapped in overlapping windows and scanned on all cores.
//!
//! Measured on a 1.2 GB tree of logs, copying files into buffers with `read` took 40% of
//! the CPU time (more than the scan itself); mapping them costs nothing per byte. Only a
//! window of [`ScanOptions::window`](super::fs::ScanOptions::window) bytes (plus the
//! overlap) is mapped at a time per thread, so peak RSS stays small however big the file.
//!
//! Windows overlap like [`Scanner::scan_reader`](crate::Scanner::scan_reader)'s chunks:
//! [`CHUNK_OVERLAP`] / 2 bytes of context on each side, and a window reports only findings
//! that start in its own range, so each credential is reported once. Line numbers are made
//! true afterwards from the newlines before each window that found something
//! ([`location::Start`](crate::location::Start), shared with streamed chunks).
//!
//! A file truncated while it is mapped would raise SIGBUS; every mapping is registered with
//! [`map_guard`](super::map_guard), so the vanished pages read as zeros and the file is
//! reported as `truncated` (not fully scanned) with what was found before the cut.
//! `ScanOptions::mmap = false` reads instead.

use std::fs::File;
use std::io;

use memmap2::{Mmap, MmapOptions};
use rayon::prelude::*;

use crate::finding::{Finding, BINARY_STEP};
use crate::location::{Span, Start};
use crate::origin::Origin;
use crate::problem::Problem;
use crate::scanner::CHUNK_OVERLAP;
use crate::source::content::Ctx;
use crate::source::encoding::{self, Kind, SNIFF_LEN};
use crate::source::map_guard::Guard;

/// Files of more windows than this are scanned by all cores together.
const PARALLEL_WINDOWS: usize = 4;

/// A read-only mapping guarded against truncation (the guard is dropped first).
struct Mapped {
    guard: Guard,
    map: Mmap,
}

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

/// Maps `len` bytes of `file` from `offset`.
fn map(file: &File, offset: u64, len: usize) -> io::Result<Mapped> {
    // SAFETY: the mapping is read-only and private to this function's caller; leakscan
    // never writes to scanned files. Another process truncating the file meanwhile would
    // raise SIGBUS; the guard turns that into zeros and a `truncated` report.
    let map = unsafe { MmapOptions::new().offset(offset).len(len).map(file) }?;
    let guard = Guard::new(map.as_ptr(), map.len());
    Ok(Mapped { guard, map })
}

/// Reports a file that shrank while it was mapped; what was found before the cut stands.
fn report_truncated(ctx: &Ctx<'_>, origin: &Origin, len: usize) {
    let msg = format!(
        "the file shrank below its {len} bytes while it was being scanned (log rotation?); \
         the rest was not scanned"
    );
    ctx.report(&origin.path, Problem::Truncated, &msg);
}

/// Scans a regular file of `len` bytes by mapping it. Returns false (nothing reported)
/// when the file is better read as a stream: it is neither text nor other binary content
/// (archives, UTF-16, media go the streaming way) or mapping failed.
pub(crate) fn scan_file(ctx: &Ctx<'_>, file: &File, len: u64, origin: &Origin) -> bool {
    let Ok(len) = usize::try_from(len) else {
        return false;
    };
    let window = ctx.opts.window.max(CHUNK_OVERLAP);
    if len == 0 {
        return false;
    }
    if len <= window {
        let Ok(m) = map(file, 0, len) else {
            return false;
        };
        ctx.scan_buffer(&m, origin, 0, None);
        if m.guard.truncated() {
            report_truncated(ctx, origin, len);
        }
        return true;
    }
    let head = match map(file, 0, SNIFF_LEN.min(len)) {
        Ok(m) => encoding::sniff(&m),
        Err(_) => return false,
    };
    let binary = match head {
        Kind::Text => false,
        Kind::Binary => true,
        _ => return false,
    };
    let n = len.div_ceil(window);
    let half = CHUNK_OVERLAP / 2;
    let start_of = |k: usize| (k * window).saturating_sub(half);
    // A file of a few windows stays on the walker's thread: the walker already keeps every
    // core busy with other files, and handing two windows to the pool only adds waiting.
    let pool = if n > PARALLEL_WINDOWS {
        ctx.pool()
    } else {
        None
    };
    // Line numbers need the newlines before each window. A big file (scanned by the pool)
    // counts them in every window while it is mapped: a big log nearly always has a
    // finding somewhere, and mapping it again later costs more than the count. A small one
    // counts later, and only up to the last window that found something.
    let count_now = pool.is_some();
    let scan_window = |k: usize| -> io::Result<Window> {
        let own = k * window..((k + 1) * window).min(len);
        let start = own.start.saturating_sub(half);
        let end = (own.end + half).min(len);
        let m = map(file, start as u64, end - start)?;
        let pre = own.start - start;
        let own_len = own.end - own.start;
        let mut found = crate::sink::Collected::default();
        let here = pre..pre + own_len;
        ctx.scanner
            .scan_window(&m, origin, Start::default(), here, &mut found);
        for (kind, msg) in &found.problems {
            ctx.report(&origin.path, *kind, msg);
        }
        ctx.suppressed(found.suppressed);
        ctx.progress(&origin.path, own_len as u64);
        let stride = count_now.then(|| {
            let next = (start_of(k + 1).max(start) - start).min(m.len());
            Span::of(&m[..next])
        });
        Ok(Window {
            findings: found.findings,
            start,
            stride,
            truncated: m.guard.truncated(),
        })
    };
    let results: Vec<io::Result<Window>> = match pool {
        Some(pool) => pool.install(|| (0..n).into_par_iter().map(scan_window).collect()),
        None => (0..n).map(scan_window).collect(),
    };
    // Windows after a failed one are dropped: their line numbers could not be made true.
    let mut failed = None;
    let mut windows = Vec::with_capacity(n);
    for r in results {
        match r {
            Ok(w) => windows.push(w),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    // Findings carry coordinates counted from their window's start; each window's start in
    // the whole file follows from the newlines of the windows before it.
    let truncated = windows.iter().any(|w| w.truncated);
    let last = windows.iter().rposition(|w| !w.findings.is_empty());
    let mut at = Start::default();
    for (k, w) in windows
        .into_iter()
        .enumerate()
        .take(last.map_or(0, |l| l + 1))
    {
        debug_assert_eq!(at.offset, w.start as u64);
        for mut f in w.findings {
            at.place(&mut f);
            if binary {
                f.decoded_from.insert(0, BINARY_STEP.to_owned());
            }
            ctx.finding(f);
        }
        if Some(k) == last {
            break;
        }
        let stride = match w.stride {
            Some(s) => Ok(s),
            None => {
                let (a, b) = (start_of(k), start_of(k + 1));
                map(file, a as u64, b - a).map(|m| Span::of(&m))
            }
        };
        match stride {
            Ok(s) => at = at.after(s),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    match failed {
        None if truncated => report_truncated(ctx, origin, len),
        None => ctx.scanned(&origin.path, len as u64),
        Some(e) => ctx.read_failed(origin, 0, None, &e),
    }
    true
}

/// What one window found.
struct Window {
    findings: Vec<Finding>,
    /// Where the mapped bytes start in the file.
    start: usize,
    /// The newlines from its start to the next window's, when counted while mapped (files
    /// scanned by the pool).
    stride: Option<Span>,
    /// Part of it lay beyond the file's end by the time it was read.
    truncated: bool,
}
