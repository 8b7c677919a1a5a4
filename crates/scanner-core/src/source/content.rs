//! One input's bytes → the scanner: decides whether it is an archive, UTF-16, media,
//! binary or text, holds small inputs whole and streams big ones in bounded memory. Shared
//! by the file-tree, stdin, archive and git sources: a new content type is added here, once.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::finding::{Finding, BINARY_STEP};
use crate::origin::Origin;
use crate::problem::Problem;
use crate::scanner::Scanner;
use crate::sink::Sink;
use crate::source::archive::{self, Budget};
use crate::source::encoding::{self, Kind, Utf16Reader, SNIFF_LEN};
use crate::source::fs::ScanOptions;
use crate::source::image::Holds;
use crate::source::Events;

/// Run-wide state shared by every worker thread.
pub(crate) struct Ctx<'a> {
    pub scanner: &'a Scanner,
    pub opts: &'a ScanOptions,
    /// The one root directory walked paths are labelled relative to, if any.
    pub root: Option<std::path::PathBuf>,
    events: &'a dyn Events,
    files: AtomicU64,
    bytes: AtomicU64,
    skipped: AtomicU64,
    errors: AtomicU64,
    kinds: Mutex<BTreeMap<String, u64>>,
    /// Threads that scan the windows of one big file together (built at first use).
    pool: OnceLock<Option<rayon::ThreadPool>>,
    /// Findings of container images waiting for their manifest (see `image.rs`).
    pub(crate) held: Holds,
}

/// Hands findings and problems to [`Events`], recording a transcoding step when there was
/// one.
struct EventSink<'a> {
    ctx: &'a Ctx<'a>,
    path: &'a str,
    step: Option<&'static str>,
}

impl Sink for EventSink<'_> {
    fn finding(&mut self, mut f: Finding) {
        if let Some(step) = self.step {
            f.decoded_from.insert(0, step.to_owned());
        }
        self.ctx.finding(f);
    }
    fn incomplete(&mut self, kind: Problem, message: &str) {
        self.ctx.report(self.path, kind, message);
    }
    fn suppressed(&mut self) {
        self.ctx.suppressed(1);
    }
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(scanner: &'a Scanner, opts: &'a ScanOptions, events: &'a dyn Events) -> Self {
        Ctx {
            scanner,
            opts,
            root: None,
            events,
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            kinds: Mutex::new(BTreeMap::new()),
            pool: OnceLock::new(),
            held: Holds::default(),
        }
    }

    /// The pool for windows of big files; `None` with one thread (or if none can start).
    pub(crate) fn pool(&self) -> Option<&rayon::ThreadPool> {
        self.pool
            .get_or_init(|| {
                let n = match self.opts.threads {
                    0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                    n => n,
                };
                (n > 1)
                    .then(|| rayon::ThreadPoolBuilder::new().num_threads(n).build().ok())
                    .flatten()
            })
            .as_ref()
    }

    /// (files, bytes, skipped, errors, count per error kind) so far.
    pub(crate) fn totals(&self) -> (u64, u64, u64, u64, BTreeMap<String, u64>) {
        let kinds = self.kinds.lock().map(|k| k.clone()).unwrap_or_default();
        (
            self.files.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
            self.skipped.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
            kinds,
        )
    }

    /// Passes a finding on (sources that build findings themselves, e.g. Slack).
    pub(crate) fn finding(&self, f: Finding) {
        if let Some(f) = self.held.hold(f) {
            self.events.finding(f);
        }
    }

    /// Findings the user allowed (see [`Events::suppressed`]).
    pub(crate) fn suppressed(&self, n: u64) {
        if n > 0 {
            self.events.suppressed(n);
        }
    }

    /// Part of a big input scanned (see [`Events::progress`]).
    pub(crate) fn progress(&self, path: &str, bytes: u64) {
        self.events.progress(path, bytes);
    }

    /// One input scanned completely.
    pub(crate) fn scanned(&self, path: &str, bytes: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.events.scanned(path, bytes);
    }

    /// An input skipped or (partly) failed; counted and reported, and the scan goes on.
    pub(crate) fn report(&self, path: &str, kind: Problem, message: &str) {
        if kind.is_incomplete() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        } else {
            self.skipped.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut k) = self.kinds.lock() {
            *k.entry(kind.as_str().to_owned()).or_default() += 1;
        }
        self.events.error(path, kind, message);
    }

    /// Reports a failed read: a decompression limit, permission, corruption or plain I/O.
    pub(crate) fn read_failed(
        &self,
        origin: &Origin,
        depth: usize,
        budget: Option<&Budget>,
        e: &io::Error,
    ) {
        let (kind, msg) = classify(e, depth, budget);
        self.report(&origin.path, kind, &msg);
    }

    /// Scans text bytes held in memory.
    fn scan_text(&self, data: &[u8], origin: &Origin, step: Option<&'static str>) {
        let mut sink = EventSink {
            ctx: self,
            path: &origin.path,
            step,
        };
        self.scanner.scan_bytes_with(data, origin, &mut sink);
        self.scanned(&origin.path, data.len() as u64);
    }

    /// Scans a text stream in bounded memory; what arrived before a read error is scanned.
    fn stream_text(
        &self,
        reader: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        budget: Option<&Budget>,
        step: Option<&'static str>,
    ) {
        let mut sink = EventSink {
            ctx: self,
            path: &origin.path,
            step,
        };
        match self.scanner.scan_reader(reader, origin, &mut sink) {
            Ok(n) => self.scanned(&origin.path, n),
            Err(e) => self.read_failed(origin, depth, budget, &e),
        }
    }

    /// Checks that one more archive level may be opened; reports it otherwise.
    fn may_open(&self, origin: &Origin, depth: usize) -> bool {
        if depth < self.opts.archive.max_depth {
            return true;
        }
        let msg = format!(
            "archive not opened: nested deeper than the archive depth limit ({})",
            self.opts.archive.max_depth
        );
        self.report(&origin.path, Problem::ArchiveDepth, &msg);
        false
    }

    /// Scans an input held whole in memory. `depth` is how many archives enclose it.
    pub(crate) fn scan_buffer(
        &self,
        data: &[u8],
        origin: &Origin,
        depth: usize,
        budget: Option<&Budget>,
    ) {
        let kind = encoding::sniff(data);
        if kind.is_archive() && !self.may_open(origin, depth) {
            return;
        }
        match kind {
            Kind::Zip => with_budget(self, budget, |b| {
                archive::scan_zip(self, Cursor::new(data), origin, depth + 1, b)
            }),
            Kind::Gzip => with_budget(self, budget, |b| {
                archive::scan_gzip(self, &mut &data[..], origin, depth + 1, b)
            }),
            Kind::Tar => with_budget(self, budget, |b| {
                archive::scan_tar(self, &mut &data[..], origin, depth + 1, b)
            }),
            Kind::Utf16(enc, bom) => {
                let text = encoding::transcode(enc, &data[bom..]);
                self.scan_text(&text, origin, Some(encoding::step_name(enc)));
            }
            Kind::Opaque(f) => self.report(&origin.path, f.problem(), &f.message()),
            Kind::Binary => self.scan_text(data, origin, Some(BINARY_STEP)),
            Kind::Text => self.scan_text(data, origin, None),
        }
    }

    /// Scans a stream of unknown length: held whole when it is small, streamed otherwise.
    pub(crate) fn scan_stream(
        &self,
        reader: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        budget: Option<&Budget>,
    ) {
        let mut buf = Vec::new();
        let limit = self.opts.in_memory_limit;
        // Look before reading on: a media member is given up without inflating the rest.
        let first = read_up_to(reader, &mut buf, SNIFF_LEN.min(limit + 1));
        if let (Ok(()), Kind::Opaque(f)) = (&first, encoding::sniff(&buf)) {
            return self.report(&origin.path, f.problem(), &f.message());
        }
        if let Err(e) = first.and_then(|()| read_up_to(reader, &mut buf, limit + 1)) {
            // Scan what arrived (findings before a bomb or a corrupt block are kept).
            let step = match encoding::sniff(&buf) {
                Kind::Text => Some(None),
                Kind::Binary => Some(Some(BINARY_STEP)),
                _ => None,
            };
            if let Some(step) = step {
                let mut sink = EventSink {
                    ctx: self,
                    path: &origin.path,
                    step,
                };
                self.scanner.scan_bytes_with(&buf, origin, &mut sink);
            }
            return self.read_failed(origin, depth, budget, &e);
        }
        if buf.len() <= limit {
            return self.scan_buffer(&buf, origin, depth, budget);
        }
        self.scan_big(&buf, reader, None, origin, depth, budget);
    }

    /// Scans an input too big to hold: `head` (already read) followed by `rest`. A seekable
    /// `file` (the same input, on disk) lets a big zip be read in place.
    pub(crate) fn scan_big(
        &self,
        head: &[u8],
        rest: &mut dyn Read,
        file: Option<&mut File>,
        origin: &Origin,
        depth: usize,
        budget: Option<&Budget>,
    ) {
        let kind = encoding::sniff(head);
        if kind.is_archive() && !self.may_open(origin, depth) {
            return;
        }
        let mut chained = Cursor::new(head).chain(rest);
        match kind {
            Kind::Zip => match file {
                Some(f) => match f.rewind() {
                    Ok(()) => with_budget(self, budget, |b| {
                        archive::scan_zip(self, f, origin, depth + 1, b)
                    }),
                    Err(e) => self.read_failed(origin, depth, budget, &e),
                },
                None => self.scan_streamed_zip(&mut chained, origin, depth, budget),
            },
            Kind::Gzip => with_budget(self, budget, |b| {
                archive::scan_gzip(self, &mut chained, origin, depth + 1, b)
            }),
            Kind::Tar => with_budget(self, budget, |b| {
                archive::scan_tar(self, &mut chained, origin, depth + 1, b)
            }),
            Kind::Utf16(enc, bom) => {
                let mut body = Cursor::new(&head[bom..]).chain(chained.into_inner().1);
                let mut utf8 = Utf16Reader::new(&mut body, enc);
                let step = Some(encoding::step_name(enc));
                self.stream_text(&mut utf8, origin, depth, budget, step);
            }
            Kind::Opaque(f) => self.report(&origin.path, f.problem(), &f.message()),
            Kind::Binary => {
                self.stream_text(&mut chained, origin, depth, budget, Some(BINARY_STEP))
            }
            Kind::Text => self.stream_text(&mut chained, origin, depth, budget, None),
        }
    }

    /// A zip that arrives as a stream (stdin, an archive member) needs seeking: it is held
    /// in memory up to `max_nested_zip` bytes and reported as too large beyond that.
    fn scan_streamed_zip(
        &self,
        reader: &mut dyn Read,
        origin: &Origin,
        depth: usize,
        budget: Option<&Budget>,
    ) {
        let cap = self.opts.archive.max_nested_zip;
        let mut buf = Vec::new();
        if let Err(e) = read_up_to(reader, &mut buf, cap + 1) {
            return self.read_failed(origin, depth, budget, &e);
        }
        if buf.len() > cap {
            let msg = format!(
                "zip archive read from a stream is larger than {cap} bytes (the in-memory limit for zips that cannot be read in place)"
            );
            return self.report(&origin.path, Problem::TooLarge, &msg);
        }
        with_budget(self, budget, |b| {
            archive::scan_zip(self, Cursor::new(&buf[..]), origin, depth + 1, b)
        });
    }
}

/// One object handed to [`gather`]: held in memory, or a stream of unknown length.
pub(crate) enum Input<'a> {
    /// The whole object.
    Bytes(&'a [u8]),
    /// A stream (big objects), read once in bounded memory.
    Stream(&'a mut dyn Read),
}

/// What scanning one object through the content layer found, held for a source that
/// attributes it afterwards (a git blob's findings go to every commit that introduced it).
#[derive(Debug, Default)]
pub(crate) struct Gathered {
    /// Findings, in input order (archive members in archive order).
    pub findings: Vec<Finding>,
    /// `(path, kind, message)`; `path` names the archive member when there is one.
    pub problems: Vec<(String, Problem, String)>,
    /// Bytes scanned: decompressed and transcoded, as for files.
    pub bytes: u64,
    /// Findings dropped because the user allowed them.
    pub suppressed: u64,
}

/// Collects a [`Ctx`]'s events for [`gather`].
#[derive(Default)]
struct Gather(Mutex<Gathered>);

impl Gather {
    fn with(&self, f: impl FnOnce(&mut Gathered)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

impl Events for Gather {
    fn finding(&self, finding: Finding) {
        self.with(|g| g.findings.push(finding));
    }
    fn error(&self, path: &str, kind: Problem, message: &str) {
        self.with(|g| g.problems.push((path.to_owned(), kind, message.to_owned())));
    }
    fn scanned(&self, _path: &str, _bytes: u64) {}
    fn suppressed(&self, n: u64) {
        self.with(|g| g.suppressed += n);
    }
}

/// Scans one object as `origin` exactly as a file would be scanned (archives opened,
/// UTF-16 transcoded, big streams in bounded memory) and returns what it found.
pub(crate) fn gather(
    scanner: &Scanner,
    opts: &ScanOptions,
    input: Input<'_>,
    origin: &Origin,
) -> Gathered {
    let out = Gather::default();
    let ctx = Ctx::new(scanner, opts, &out);
    match input {
        Input::Bytes(data) => ctx.scan_buffer(data, origin, 0, None),
        Input::Stream(reader) => ctx.scan_stream(reader, origin, 0, None),
    }
    let bytes = ctx.totals().1;
    let mut gathered = out.0.into_inner().unwrap_or_else(|e| e.into_inner());
    gathered.bytes = bytes;
    gathered
}

/// Runs `f` with the enclosing archive's decompression budget, or a fresh one for an
/// archive that is not inside another.
fn with_budget(ctx: &Ctx<'_>, budget: Option<&Budget>, f: impl FnOnce(&Budget)) {
    match budget {
        Some(b) => f(b),
        None => f(&Budget::new(&ctx.opts.archive)),
    }
}

/// Reads until EOF or until `buf` holds `limit` bytes.
pub(crate) fn read_up_to(r: &mut dyn Read, buf: &mut Vec<u8>, limit: usize) -> io::Result<()> {
    let want = limit.saturating_sub(buf.len()) as u64;
    r.take(want).read_to_end(buf).map(|_| ())
}

/// Maps a read error to an event kind and message.
fn classify(e: &io::Error, depth: usize, budget: Option<&Budget>) -> (Problem, String) {
    if let Some(hit) = archive::limit_hit(e).or(budget.and_then(Budget::hit)) {
        return (Problem::ZipBomb, hit.to_string());
    }
    match e.kind() {
        io::ErrorKind::PermissionDenied => (Problem::PermissionDenied, e.to_string()),
        _ if depth > 0 => (
            Problem::CorruptArchive,
            format!("reading archive member: {e}"),
        ),
        _ => (Problem::ReadError, e.to_string()),
    }
}
