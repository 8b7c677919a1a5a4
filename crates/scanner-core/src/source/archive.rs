//! Archives read in memory or as streams, never extracted to disk: zip (Slack exports
//! included), tar, gzip (`.gz`, `.tar.gz`/`.tgz`), nested up to a depth limit. Members are
//! labelled `ARCHIVE!/MEMBER` (nested: `a.zip!/b.tar.gz!/c.yaml`); member names are only
//! ever used as labels, so `../` names are harmless. A tar that is a container image
//! (`docker save`, OCI layout) also gets image and layer context on its findings
//! ([`image`](super::image)).
//!
//! Hostile archives are survived and reported through [`Events::error`](super::Events):
//! `zip-bomb` (total decompressed bytes per outermost archive, or one member inflating far
//! beyond its compressed size), `too-many-members`, `corrupt-archive`, `encrypted`,
//! `unsupported-compression`. Findings made before the problem are kept.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::rc::Rc;

use flate2::bufread::GzDecoder;
use zip::result::ZipError;
use zip::ZipArchive;

use crate::origin::Origin;
use crate::problem::Problem;
use crate::source::content::{read_up_to, Ctx};
use crate::source::encoding::{self, Kind};
use crate::source::image;
use crate::source::slack;

/// Limits that keep hostile archives from exhausting time, memory or disk.
#[derive(Debug, Clone)]
pub struct ArchiveLimits {
    /// How many archive levels are opened (0: archives are not opened at all).
    pub max_depth: usize,
    /// Decompressed bytes one outermost archive may produce, nested archives included.
    pub max_total_bytes: u64,
    /// A member that inflates to more than this many times its compressed size (once past
    /// [`ArchiveLimits::ratio_floor`] bytes) is treated as a bomb. Deflate's ceiling is
    /// about 1032:1; text rarely compresses beyond 100:1.
    pub max_ratio: u64,
    /// Below this many decompressed bytes the ratio is not checked (tiny files of spaces
    /// compress absurdly well and are harmless).
    pub ratio_floor: u64,
    /// Members of one archive that are looked at; the rest are reported.
    pub max_members: usize,
    /// A zip that cannot be read in place (nested in another archive, or on stdin) is held
    /// in memory up to this size.
    pub max_nested_zip: usize,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: 3,
            max_total_bytes: 8 << 30,
            max_ratio: 250,
            ratio_floor: 4 << 20,
            max_members: 100_000,
            max_nested_zip: 64 << 20,
        }
    }
}

/// Why decompression was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LimitHit {
    /// The outermost archive produced too many bytes in total.
    #[error(
        "decompression stopped: the archive inflates to more than {0} bytes in total (zip bomb?)"
    )]
    Total(u64),
    /// One member inflated far beyond its compressed size.
    #[error("decompression stopped: a member inflates more than {ratio}:1 ({produced} bytes from {compressed}) (zip bomb?)")]
    Ratio {
        /// The ratio limit.
        ratio: u64,
        /// Bytes produced when stopped.
        produced: u64,
        /// Compressed bytes they came from.
        compressed: u64,
    },
}

/// Decompressed bytes left for one outermost archive (shared by everything nested in it).
/// Lives on one worker thread, hence `Cell`.
pub(crate) struct Budget {
    remaining: Cell<u64>,
    limit: u64,
    hit: Cell<Option<LimitHit>>,
}

impl Budget {
    pub(crate) fn new(limits: &ArchiveLimits) -> Self {
        Budget {
            remaining: Cell::new(limits.max_total_bytes),
            limit: limits.max_total_bytes,
            hit: Cell::new(None),
        }
    }

    /// The total-bytes limit, when it has stopped decompression.
    pub(crate) fn hit(&self) -> Option<LimitHit> {
        self.hit.get()
    }

    fn exhausted(&self) -> bool {
        self.hit.get().is_some()
    }
}

/// What a member's inflation ratio is measured against.
enum Compressed {
    /// The zip member's compressed size.
    Fixed(u64),
    /// Compressed bytes a gzip decoder has consumed so far.
    Counted(Rc<Cell<u64>>),
}

/// Counts decompressed bytes against the budget and the ratio limit.
struct Limited<'b, R> {
    inner: R,
    budget: &'b Budget,
    produced: u64,
    compressed: Compressed,
    max_ratio: u64,
    ratio_floor: u64,
}

impl<R: Read> Read for Limited<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(hit) = self.budget.hit.get() {
            return Err(io::Error::other(hit));
        }
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        let left = self.budget.remaining.get();
        if n as u64 > left {
            let hit = LimitHit::Total(self.budget.limit);
            self.budget.hit.set(Some(hit));
            return Err(io::Error::other(hit));
        }
        self.budget.remaining.set(left - n as u64);
        let compressed = match &self.compressed {
            Compressed::Fixed(c) => *c,
            Compressed::Counted(c) => c.get(),
        };
        if self.produced > self.ratio_floor
            && self.produced > compressed.max(1).saturating_mul(self.max_ratio)
        {
            return Err(io::Error::other(LimitHit::Ratio {
                ratio: self.max_ratio,
                produced: self.produced,
                compressed,
            }));
        }
        Ok(n)
    }
}

impl<'b, R> Limited<'b, R> {
    fn new(inner: R, ctx: &Ctx<'_>, budget: &'b Budget, compressed: Compressed) -> Self {
        Limited {
            inner,
            budget,
            produced: 0,
            compressed,
            max_ratio: ctx.opts.archive.max_ratio,
            ratio_floor: ctx.opts.archive.ratio_floor,
        }
    }
}

/// The decompression limit behind a read error, if one was.
pub(crate) fn limit_hit(e: &io::Error) -> Option<LimitHit> {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<LimitHit>())
        .copied()
}

/// Counts bytes read through it (a gzip decoder's compressed input).
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Reports that an archive holds more members than are looked at.
fn too_many(ctx: &Ctx<'_>, origin: &Origin, n: Option<usize>) {
    let max = ctx.opts.archive.max_members;
    let msg = match n {
        Some(n) => format!("archive has {n} members; only the first {max} were scanned"),
        None => format!("archive has more than {max} members; only the first {max} were scanned"),
    };
    ctx.report(&origin.path, Problem::TooManyMembers, &msg);
}

/// Scans every member of a zip. `depth` is the depth of its members.
pub(crate) fn scan_zip<R: Read + Seek>(
    ctx: &Ctx<'_>,
    reader: R,
    origin: &Origin,
    depth: usize,
    budget: &Budget,
) {
    let mut zip = match ZipArchive::new(reader) {
        Ok(z) => z,
        Err(e) => {
            let msg = format!("not a readable zip archive: {e}");
            return ctx.report(&origin.path, Problem::CorruptArchive, &msg);
        }
    };
    let mut count = zip.len();
    if count > ctx.opts.archive.max_members {
        too_many(ctx, origin, Some(count));
        count = ctx.opts.archive.max_members;
    }
    let slack = slack::ZipExport::detect(ctx, &mut zip, origin);
    for i in 0..count {
        if budget.exhausted() {
            break;
        }
        let (name, encrypted, compressed, skip) = match zip.by_index_raw(i) {
            Ok(f) => (
                f.name().to_owned(),
                f.encrypted(),
                f.compressed_size(),
                f.is_dir() || f.is_symlink(),
            ),
            Err(e) => {
                let msg = format!("member {i}: {e}");
                ctx.report(&origin.path, Problem::CorruptArchive, &msg);
                continue;
            }
        };
        if skip {
            continue;
        }
        let member = origin.member(&name);
        if encrypted {
            ctx.report(
                &member.path,
                Problem::Encrypted,
                "encrypted zip member, not scanned",
            );
            continue;
        }
        let file = match zip.by_index(i) {
            Ok(f) => f,
            Err(ZipError::UnsupportedArchive(why)) => {
                let msg = format!("unsupported zip member: {why}");
                ctx.report(&member.path, Problem::UnsupportedCompression, &msg);
                continue;
            }
            Err(e) => {
                ctx.report(&member.path, Problem::CorruptArchive, &e.to_string());
                continue;
            }
        };
        let mut limited = Limited::new(file, ctx, budget, Compressed::Fixed(compressed));
        match slack.as_ref().and_then(|s| s.day_file(&name)) {
            Some(day) => slack::scan_member_day(ctx, &mut limited, &member, depth, budget, day),
            None => ctx.scan_stream(&mut limited, &member, depth, Some(budget)),
        }
    }
}

/// The members of a gzip stream one after another, as `gzip -dc` reads them. Zero padding
/// after the last member is skipped; other data there that is not a gzip member ends the
/// stream without failing it (what was decoded stays good) and is recorded in `trailing`.
struct Members<R: Read> {
    current: Option<GzDecoder<BufReader<Counting<R>>>>,
    consumed: Rc<Cell<u64>>,
    /// The name stored in the first member's header (read when that member ends).
    first_name: Option<Vec<u8>>,
    /// Where data that is not gzip starts after the last member (compressed offset).
    trailing: Option<u64>,
}

/// What follows a gzip member.
enum After {
    End,
    Member,
    Garbage,
}

impl<R: Read> Members<R> {
    fn new(reader: R, consumed: Rc<Cell<u64>>) -> Self {
        let counting = Counting {
            inner: reader,
            count: Rc::clone(&consumed),
        };
        Members {
            current: Some(GzDecoder::new(BufReader::new(counting))),
            consumed,
            first_name: None,
            trailing: None,
        }
    }

    /// The file name stored in the first member's header, if any.
    fn stored_name(&self) -> Option<Vec<u8>> {
        self.first_name.clone().or_else(|| {
            let header = self.current.as_ref()?.header()?;
            header.filename().map(<[u8]>::to_vec)
        })
    }

    /// Offset in the compressed stream of the next unread byte of `input`.
    fn offset(&self, input: &BufReader<Counting<R>>) -> u64 {
        self.consumed.get() - input.buffer().len() as u64
    }

    /// Skips zero padding and tells what comes after a member.
    fn after(input: &mut BufReader<Counting<R>>) -> io::Result<After> {
        let mut padded = false;
        loop {
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                return Ok(After::End);
            }
            let zeros = buf.iter().take_while(|&&b| b == 0).count();
            if zeros == 0 {
                return Ok(if padded {
                    After::Garbage
                } else {
                    After::Member
                });
            }
            padded = true;
            input.consume(zeros);
        }
    }
}

impl<R: Read> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(decoder) = self.current.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            if self.first_name.is_none() {
                self.first_name = Some(self.stored_name().unwrap_or_default());
            }
            let Some(mut input) = self.current.take().map(GzDecoder::into_inner) else {
                return Ok(0);
            };
            let at = self.offset(&input);
            match Self::after(&mut input)? {
                After::End => return Ok(0),
                After::Garbage => {
                    self.trailing = Some(self.offset(&input));
                    return Ok(0);
                }
                After::Member => {
                    let next = GzDecoder::new(input);
                    if next.header().is_none() {
                        // Not a gzip header: trailing data, which `gzip -dc` ignores too.
                        self.trailing = Some(at);
                        return Ok(0);
                    }
                    self.current = Some(next);
                }
            }
        }
    }
}

/// Scans a gzip stream: a tarball's members (`x.tgz!/member`) or the one compressed file
/// (`x.log.gz!/x.log`). `depth` is the depth of what is inside. Several members are read
/// one after another; data after the last one is reported as `trailing-garbage`.
pub(crate) fn scan_gzip(
    ctx: &Ctx<'_>,
    reader: &mut dyn Read,
    origin: &Origin,
    depth: usize,
    budget: &Budget,
) {
    let consumed = Rc::new(Cell::new(0u64));
    let mut members = Members::new(reader, Rc::clone(&consumed));
    let mut head = Vec::new();
    // Read a first block to see what is inside (and to have the gzip header parsed).
    let first = {
        let mut limited = Limited::new(
            &mut members,
            ctx,
            budget,
            Compressed::Counted(Rc::clone(&consumed)),
        );
        read_up_to(&mut limited, &mut head, 4096)
    };
    let inner_name = gzip_member_name(&origin.path, members.stored_name().as_deref());
    {
        // A failed first block still has what decoded before the failure scanned.
        let rest: Box<dyn Read + '_> = match first {
            Ok(()) => Box::new(Limited::new(
                &mut members,
                ctx,
                budget,
                Compressed::Counted(Rc::clone(&consumed)),
            )),
            Err(e) => Box::new(Failed(Some(e))),
        };
        let mut body = io::Cursor::new(&head[..]).chain(rest);
        if encoding::sniff(&head) == Kind::Tar {
            // A tarball is one level: its members sit right under the .tar.gz.
            scan_tar(ctx, &mut body, origin, depth, budget);
        } else {
            let member = origin.member(&inner_name);
            ctx.scan_stream(&mut body, &member, depth, Some(budget));
        }
    }
    if let Some(at) = members.trailing {
        let msg = format!(
            "data at byte {at} after the last gzip member is not gzip; it was not scanned (gzip -dc ignores it too)"
        );
        ctx.report(&origin.path, Problem::TrailingGarbage, &msg);
    }
}

/// A reader that fails once with the error it holds (a read error met ahead of time).
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// The name of the file inside a gzip: the archive's name without `.gz`, else the name
/// stored in the gzip header, else `data`.
fn gzip_member_name(path: &str, stored: Option<&[u8]>) -> String {
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let lower = base.to_ascii_lowercase();
    for ext in [".gz", ".gzip", ".z"] {
        if lower.ends_with(ext) && base.len() > ext.len() {
            return base[..base.len() - ext.len()].to_owned();
        }
    }
    match stored {
        Some(s) if !s.is_empty() => String::from_utf8_lossy(s).into_owned(),
        _ => "data".to_owned(),
    }
}

/// Scans every regular file in a tar stream. `depth` is the depth of its members.
pub(crate) fn scan_tar(
    ctx: &Ctx<'_>,
    reader: &mut dyn Read,
    origin: &Origin,
    depth: usize,
    budget: &Budget,
) {
    let mut archive = tar::Archive::new(reader);
    let mut slack = slack::TarExport::default();
    let mut image = image::Tarball::new(ctx, origin);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => return ctx.read_failed(origin, depth, Some(budget), &e),
    };
    for (n, entry) in entries.enumerate() {
        if budget.exhausted() {
            break;
        }
        if n >= ctx.opts.archive.max_members {
            too_many(ctx, origin, None);
            break;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // A broken header ends the archive: there is no reliable next header.
                let hit = limit_hit(&e).or(budget.hit());
                let (kind, msg) = match hit {
                    Some(hit) => (Problem::ZipBomb, hit.to_string()),
                    None => (Problem::CorruptArchive, format!("reading tar header: {e}")),
                };
                ctx.report(&origin.path, kind, &msg);
                break;
            }
        };
        let regular = matches!(
            entry.header().entry_type(),
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse
        );
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let in_image = image.member(&name, regular);
        if !regular {
            continue;
        }
        let member = origin.member(&name);
        if in_image {
            let size = entry.size();
            image::scan_member(ctx, &mut image, (&mut entry, size), &member, depth, budget);
        } else if slack.note(&name) {
            let mut data = Vec::new();
            match read_up_to(&mut entry, &mut data, slack::MAX_JSON) {
                Ok(()) => {
                    slack.set_users(&data);
                    ctx.scan_buffer(&data, &member, depth, Some(budget));
                }
                Err(e) => ctx.read_failed(&member, depth, Some(budget), &e),
            }
        } else if let Some(day) = slack.day_file(&name) {
            slack::scan_member_day(ctx, &mut entry, &member, depth, budget, day);
        } else {
            ctx.scan_stream(&mut entry, &member, depth, Some(budget));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_names() {
        assert_eq!(gzip_member_name("logs/app.log.gz", None), "app.log");
        assert_eq!(gzip_member_name("x.zip!/a/b.GZ", None), "b");
        assert_eq!(gzip_member_name("blob", Some(b"orig.txt")), "orig.txt");
        assert_eq!(gzip_member_name("blob", None), "data");
    }
}
