//! Reading a whole pack in delta order: every object's delta base is inflated once and
//! shared by all the deltas built on it, the way `git index-pack` resolves a pack, with
//! the delta trees spread over the scan's worker threads.
//!
//! Why a reader of its own and not libgit2's: libgit2 reads one object at a time (find it
//! in the index, inflate its delta chain through a small base cache, under a pack-wide
//! lock), with the system zlib; on prometheus that was two thirds of a history scan's CPU.
//! Here each entry is inflated once, by zlib-rs (flate2's default backend, pure Rust),
//! and only the delta trees a pass asks for are touched (a blob pass never inflates a
//! tree). Why not `gix-pack`'s traversal: it visits every object of the pack (there is no
//! asking for blobs only, nor for the few trees a `--branch` needs), runs on threads of
//! its own rather than the scan's rayon pool, and would add a dozen fast-moving 0.x crates
//! for what is about 400 lines here.
//!
//! Hostile packs: every size is checked against the header that announces it, results are
//! capped at [`MAX_OBJECT`] bytes, chains at [`MAX_DEPTH`], and bases held at once at
//! [`HELD_BUDGET`] bytes; whatever breaks a rule is left out of the pass (with everything
//! built on it), and the caller reads those objects one by one through libgit2, which
//! reports what it cannot read. A ref-delta cycle is never reached from a whole object,
//! so it is left out the same way.

use std::cell::RefCell;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use flate2::{Decompress, FlushDecompress, Status};
use git2::Oid;
use rayon::prelude::*;

use super::stream::entry_header;

/// Largest object a pass builds (bigger ones, and their deltas, are read one by one:
/// big blobs are streamed there).
pub(crate) const MAX_OBJECT: usize = super::stream::STREAM_FROM as usize;
/// Longest delta chain followed (git's own `pack.depth` maximum is 4095).
pub(crate) const MAX_DEPTH: u32 = 4096;
/// Bytes of delta bases that may be held at once, over all threads, while their deltas
/// are built.
const HELD_BUDGET: usize = 128 << 20;
/// Packs with more entries than this are not read in delta order (the bookkeeping costs
/// about 60 bytes an entry); their objects are read one by one.
const MAX_ENTRIES: usize = 8_000_000;
/// No base.
const NONE: u32 = u32::MAX;

/// Pack object types.
pub(crate) const OBJ_COMMIT: u8 = 1;
pub(crate) const OBJ_TREE: u8 = 2;
pub(crate) const OBJ_BLOB: u8 = 3;
pub(crate) const OBJ_TAG: u8 = 4;
const OBJ_OFS_DELTA: u8 = 6;
const OBJ_REF_DELTA: u8 = 7;

/// One pack's entries in pack order, with the delta forest over them.
pub(crate) struct PackForest {
    pack: File,
    /// Entry start offsets, ascending; `offsets[n]` is where the trailer starts.
    offsets: Vec<u64>,
    /// Object id of each entry (from the `.idx`).
    ids: Vec<Oid>,
    /// Type of each entry: a whole object's own, or a delta's root type once known.
    kinds: Vec<u8>,
    /// Inflated size the entry header states (of the delta data, for a delta).
    sizes: Vec<u32>,
    /// Bytes of entry header (and delta base reference) before the zlib data.
    heads: Vec<u8>,
    /// Base entry of each delta, or `NONE`.
    bases: Vec<u32>,
    /// Children of entry `i`: `children[child_start[i]..child_start[i + 1]]`.
    child_start: Vec<u32>,
    children: Vec<u32>,
    /// Entries in object id order (the `.idx` order), for look-ups by id.
    by_id: Vec<u32>,
    /// `by_id[fan[k]..fan[k + 1]]` are the entries whose id starts with the two bytes `k`
    /// (a look-up then touches a few ids, not twenty spread over the pack's).
    fan: Vec<u32>,
}

/// The `.pack` beside every readable version-2 `.idx` in `dir`, read into forests; a pack
/// that cannot be read so is left out (its objects are then read one by one).
pub(crate) fn open_all(dir: &Path) -> Vec<PackForest> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|x| x.to_str()) == Some("idx"))
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|idx| PackForest::open(idx).ok())
        .collect()
}

fn bad(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.to_owned())
}

impl PackForest {
    /// Reads the index `idx_path`, then every entry header of its pack.
    fn open(idx_path: &Path) -> std::io::Result<PackForest> {
        let idx = std::fs::read(idx_path)?;
        let pack = File::open(idx_path.with_extension("pack"))?;
        let pack_len = pack.metadata()?.len();
        if idx.len() < 8 + 1024 || idx[..8] != *b"\xfftOc\0\0\0\x02" {
            return Err(bad("not a version 2 pack index"));
        }
        let be32 = |at: usize| -> Option<u32> {
            let b = idx.get(at..at + 4)?;
            Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let n = be32(8 + 255 * 4).unwrap_or(0) as usize;
        let names = 8 + 1024;
        let small = names + 24 * n;
        let large = small + 4 * n;
        if n > MAX_ENTRIES || idx.len() < large + 40 || pack_len < 32 {
            return Err(bad("pack index too short or too big"));
        }
        // (offset, position in the index) for every object, in pack order.
        let mut order = Vec::with_capacity(n);
        for i in 0..n {
            let o = be32(small + 4 * i).ok_or_else(|| bad("short index"))?;
            let off = if o & 0x8000_0000 == 0 {
                u64::from(o)
            } else {
                let at = large + 8 * (o & 0x7fff_ffff) as usize;
                let b = idx.get(at..at + 8).ok_or_else(|| bad("bad large offset"))?;
                u64::from_be_bytes(b.try_into().map_err(|_| bad("bad large offset"))?)
            };
            if off < 12 || off >= pack_len - 20 {
                return Err(bad("object offset outside the pack"));
            }
            order.push((off, i as u32));
        }
        order.sort_unstable();
        if order.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(bad("two objects at one offset"));
        }
        let id_at = |pos: u32| {
            let at = names + 20 * pos as usize;
            Oid::from_bytes(&idx[at..at + 20]).unwrap_or_else(|_| Oid::zero())
        };
        let mut position_entry = vec![0u32; n];
        for (e, &(_, pos)) in order.iter().enumerate() {
            position_entry[pos as usize] = e as u32;
        }
        let mut f = PackForest {
            offsets: order
                .iter()
                .map(|&(o, _)| o)
                .chain([pack_len - 20])
                .collect(),
            ids: order.iter().map(|&(_, pos)| id_at(pos)).collect(),
            kinds: vec![0; n],
            sizes: vec![0; n],
            heads: vec![0; n],
            bases: vec![NONE; n],
            child_start: Vec::new(),
            children: Vec::new(),
            by_id: Vec::new(),
            fan: Vec::new(),
            pack,
        };
        let find_id = |id: &[u8]| -> Option<u32> {
            let (mut lo, mut hi) = (0usize, n);
            while lo < hi {
                let mid = (lo + hi) / 2;
                match idx[names + 20 * mid..names + 20 * mid + 20].cmp(id) {
                    std::cmp::Ordering::Equal => return Some(position_entry[mid]),
                    std::cmp::Ordering::Less => lo = mid + 1,
                    std::cmp::Ordering::Greater => hi = mid,
                }
            }
            None
        };
        f.read_headers(&find_id)?;
        f.link();
        let mut fan = vec![0u32; (1 << 16) + 1];
        for &e in &position_entry {
            let b = f.ids[e as usize].as_bytes();
            fan[usize::from(b[0]) << 8 | usize::from(b[1])] += 1;
        }
        let mut sum = 0;
        for k in fan.iter_mut() {
            (*k, sum) = (sum, sum + *k);
        }
        f.fan = fan;
        f.by_id = position_entry;
        Ok(f)
    }

    /// Parses every entry header, reading the pack front to back in big chunks.
    fn read_headers(&mut self, find_id: &dyn Fn(&[u8]) -> Option<u32>) -> std::io::Result<()> {
        const CHUNK: u64 = 4 << 20;
        let mut buf = Vec::new();
        let mut buf_at = 0u64;
        for e in 0..self.ids.len() {
            let at = self.offsets[e];
            let end = self.offsets[e + 1];
            if at + 32 > buf_at + buf.len() as u64 || at < buf_at {
                let len = (self.offsets[self.ids.len()] - at).min(CHUNK.max(32));
                buf.resize(len as usize, 0);
                self.pack.read_exact_at(&mut buf, at)?;
                buf_at = at;
            }
            let from = (at - buf_at) as usize;
            let h = &buf[from..buf.len().min(from + 32)];
            let Some((kind, size, mut len)) = entry_header(h) else {
                continue; // left out: kind 0 is never asked for
            };
            let Ok(size) = u32::try_from(size) else {
                continue;
            };
            match kind {
                OBJ_OFS_DELTA => {
                    let Some((back, n)) = ofs_base(&h[len..]) else {
                        continue;
                    };
                    len += n;
                    let base = at.checked_sub(back).filter(|_| back > 0);
                    if let Some(b) = base.and_then(|b| self.offsets[..e].binary_search(&b).ok()) {
                        self.bases[e] = b as u32;
                    }
                }
                OBJ_REF_DELTA => {
                    let Some(base) = h.get(len..len + 20) else {
                        continue;
                    };
                    len += 20;
                    if let Some(b) = find_id(base).filter(|&b| b as usize != e) {
                        self.bases[e] = b;
                    }
                }
                OBJ_COMMIT | OBJ_TREE | OBJ_BLOB | OBJ_TAG => self.kinds[e] = kind,
                _ => continue,
            }
            if at + len as u64 >= end {
                self.kinds[e] = 0;
                self.bases[e] = NONE;
                continue;
            }
            self.sizes[e] = size;
            self.heads[e] = len as u8;
        }
        Ok(())
    }

    /// Builds the children lists, and gives every delta reachable from a whole object its
    /// root's type.
    fn link(&mut self) {
        let n = self.ids.len();
        let mut count = vec![0u32; n + 1];
        for &b in &self.bases {
            if b != NONE {
                count[b as usize] += 1;
            }
        }
        let mut start = Vec::with_capacity(n + 1);
        let mut sum = 0u32;
        for c in &count[..n] {
            start.push(sum);
            sum += c;
        }
        start.push(sum);
        let mut fill = start.clone();
        let mut children = vec![0u32; sum as usize];
        for (e, &b) in self.bases.iter().enumerate() {
            if b != NONE {
                children[fill[b as usize] as usize] = e as u32;
                fill[b as usize] += 1;
            }
        }
        self.child_start = start;
        self.children = children;
        // Root types down the forest (depth first, explicit stack: chains can be long).
        let mut stack: Vec<u32> = (0..n as u32)
            .filter(|&e| self.bases[e as usize] == NONE && self.kinds[e as usize] != 0)
            .collect();
        while let Some(e) = stack.pop() {
            let kind = self.kinds[e as usize];
            let (a, b) = (
                self.child_start[e as usize] as usize,
                self.child_start[e as usize + 1] as usize,
            );
            for &c in &self.children[a..b] {
                if self.kinds[c as usize] == 0 {
                    self.kinds[c as usize] = kind;
                    stack.push(c);
                }
            }
        }
    }

    fn kids(&self, e: u32) -> &[u32] {
        let (a, b) = (
            self.child_start[e as usize] as usize,
            self.child_start[e as usize + 1] as usize,
        );
        &self.children[a..b]
    }

    /// How many entries the pack has.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The object id of entry `e`.
    pub(crate) fn id(&self, e: u32) -> Oid {
        self.ids[e as usize]
    }

    /// The entry holding object `id`.
    pub(crate) fn find(&self, id: Oid) -> Option<u32> {
        let b = id.as_bytes();
        let k = usize::from(b[0]) << 8 | usize::from(b[1]);
        let span = &self.by_id[self.fan[k] as usize..self.fan[k + 1] as usize];
        let i = span
            .binary_search_by(|&e| self.ids[e as usize].as_bytes().cmp(b))
            .ok()?;
        Some(span[i])
    }

    /// The type of entry `e` (a delta's root type), 0 when it cannot be built.
    pub(crate) fn kind(&self, e: u32) -> u8 {
        self.kinds[e as usize]
    }

    /// The delta base of entry `e`, if it is a delta.
    pub(crate) fn base(&self, e: u32) -> Option<u32> {
        Some(self.bases[e as usize]).filter(|&b| b != NONE)
    }

    /// The inflated entry `e` itself: a whole object's content, or a delta's data.
    pub(crate) fn inflate_entry(&self, e: u32) -> Option<Vec<u8>> {
        self.inflate(e, self.sizes[e as usize] as usize)
    }

    /// Builds every object whose entry `want` accepts (or that a wanted one is built on)
    /// among those of type `kind`, and hands each wanted one to `visit` with its content,
    /// on the calling rayon pool's threads, until `visit` returns false. Entries that
    /// cannot be built are skipped silently, with everything built on them. Returns the
    /// thread time spent reading, inflating and applying deltas (not in `visit`).
    pub(crate) fn traverse(
        &self,
        kind: u8,
        want: &(dyn Fn(u32) -> bool + Sync),
        visit: &(dyn Fn(u32, &[u8]) -> bool + Sync),
    ) -> Duration {
        let n = self.len();
        // Needed: wanted, or a base (at any depth) of something wanted.
        let mut needed = vec![false; n];
        for e in 0..n as u32 {
            if self.kinds[e as usize] != kind || !want(e) {
                continue;
            }
            let (mut at, mut steps) = (e, 0);
            while !needed[at as usize] && steps <= MAX_DEPTH {
                needed[at as usize] = true;
                at = self.bases[at as usize];
                if at == NONE {
                    break;
                }
                steps += 1;
            }
        }
        let roots: Vec<u32> = (0..n as u32)
            .filter(|&e| needed[e as usize] && self.bases[e as usize] == NONE)
            .collect();
        let held = AtomicUsize::new(0);
        let build_ns = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        let walk = Walk {
            forest: self,
            needed: &needed,
            want,
            visit,
            held: &held,
            build_ns: &build_ns,
            stop: &stop,
        };
        roots.par_iter().with_max_len(64).for_each(|&r| {
            if self.kinds[r as usize] != kind || stop.load(Ordering::Relaxed) {
                return;
            }
            let data = walk.timed(|| self.inflate(r, self.sizes[r as usize] as usize));
            if let Some(data) = data {
                walk.descend(r, data, 0);
            }
        });
        Duration::from_nanos(build_ns.into_inner())
    }

    /// The inflated data of entry `e`, which must be exactly `size` bytes.
    fn inflate(&self, e: u32, size: usize) -> Option<Vec<u8>> {
        if size > MAX_OBJECT {
            return None;
        }
        let start = self.offsets[e as usize] + u64::from(self.heads[e as usize]);
        let end = self.offsets[e as usize + 1];
        // Deflate never needs much more than its output (stored blocks: 5 bytes a 64 KiB).
        let len = (end - start).min(size as u64 + size as u64 / 64 + 1024) as usize;
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let Scratch { z, input } = &mut *s;
            input.resize(len, 0);
            self.pack.read_exact_at(input, start).ok()?;
            z.reset(true);
            let mut out = Vec::with_capacity(size + 1);
            let status = z
                .decompress_vec(input, &mut out, FlushDecompress::Finish)
                .ok()?;
            (status == Status::StreamEnd && out.len() == size).then_some(out)
        })
    }
}

/// Per-thread inflater and read buffer.
struct Scratch {
    z: Decompress,
    input: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
        z: Decompress::new(true),
        input: Vec::new(),
    });
}

/// One traversal's shared state.
struct Walk<'a> {
    forest: &'a PackForest,
    needed: &'a [bool],
    want: &'a (dyn Fn(u32) -> bool + Sync),
    visit: &'a (dyn Fn(u32, &[u8]) -> bool + Sync),
    held: &'a AtomicUsize,
    build_ns: &'a AtomicU64,
    /// Set once `visit` asked to stop.
    stop: &'a AtomicBool,
}

impl Walk<'_> {
    fn timed<T>(&self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.build_ns.fetch_add(ns, Ordering::Relaxed);
        out
    }

    /// Visits entry `e` (content `data`, `depth` deltas below its root), then builds its
    /// needed children from it: a single child in a loop (long chains cost no stack),
    /// several in parallel while `data` is held.
    fn descend(&self, mut e: u32, mut data: Vec<u8>, mut depth: u32) {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            if (self.want)(e) && !(self.visit)(e, &data) {
                self.stop.store(true, Ordering::Relaxed);
                return;
            }
            if depth >= MAX_DEPTH {
                return;
            }
            let kids: Vec<u32> = self
                .forest
                .kids(e)
                .iter()
                .copied()
                .filter(|&c| self.needed[c as usize])
                .collect();
            match kids[..] {
                [] => return,
                [only] => match self.build(only, &data) {
                    Some(next) => {
                        (e, data, depth) = (only, next, depth + 1);
                    }
                    None => return,
                },
                _ => {
                    if self.held.fetch_add(data.len(), Ordering::Relaxed) + data.len() > HELD_BUDGET
                    {
                        self.held.fetch_sub(data.len(), Ordering::Relaxed);
                        return;
                    }
                    kids.par_iter().for_each(|&c| {
                        if let Some(next) = self.build(c, &data) {
                            self.descend(c, next, depth + 1);
                        }
                    });
                    self.held.fetch_sub(data.len(), Ordering::Relaxed);
                    return;
                }
            }
        }
    }

    /// Delta entry `c` applied to its base's content.
    fn build(&self, c: u32, base: &[u8]) -> Option<Vec<u8>> {
        let f = self.forest;
        self.timed(|| apply_delta(base, &f.inflate(c, f.sizes[c as usize] as usize)?))
    }
}

/// An ofs-delta's distance back to its base, and the bytes it took (git's big-endian
/// base-128 with an offset of one per continuation byte).
fn ofs_base(h: &[u8]) -> Option<(u64, usize)> {
    let mut c = *h.first()?;
    let mut ofs = u64::from(c & 0x7f);
    let mut i = 1;
    while c & 0x80 != 0 {
        c = *h.get(i)?;
        i += 1;
        if ofs > (u64::MAX >> 8) {
            return None;
        }
        ofs = ((ofs + 1) << 7) | u64::from(c & 0x7f);
    }
    Some((ofs, i))
}

/// A delta's little-endian base-128 size at `*at`.
fn delta_size(d: &[u8], at: &mut usize) -> Option<u64> {
    let mut size = 0u64;
    let mut shift = 0;
    loop {
        let c = *d.get(*at)?;
        *at += 1;
        if shift > 63 {
            return None;
        }
        size |= u64::from(c & 0x7f) << shift;
        shift += 7;
        if c & 0x80 == 0 {
            return Some(size);
        }
    }
}

/// Git's delta format applied to `base`: the sizes must match, every copy must lie inside
/// the base, and the result must be exactly the size the delta states (at most
/// [`MAX_OBJECT`]).
pub(crate) fn apply_delta(base: &[u8], d: &[u8]) -> Option<Vec<u8>> {
    let mut at = 0;
    if delta_size(d, &mut at)? != base.len() as u64 {
        return None;
    }
    let size = delta_size(d, &mut at)?;
    if size > MAX_OBJECT as u64 {
        return None;
    }
    let size = size as usize;
    let mut out = Vec::with_capacity(size);
    while at < d.len() {
        let op = d[at];
        at += 1;
        if op & 0x80 != 0 {
            let mut arg = [0u32; 2];
            for (bit, shift) in (0..7).map(|b| (b, (b % 4) * 8)) {
                if op & (1 << bit) != 0 {
                    arg[usize::from(bit >= 4)] |= u32::from(*d.get(at)?) << shift;
                    at += 1;
                }
            }
            let (off, mut len) = (arg[0] as usize, arg[1] as usize);
            if len == 0 {
                len = 0x10000;
            }
            let src = base.get(off..off.checked_add(len)?)?;
            if out.len() + len > size {
                return None;
            }
            out.extend_from_slice(src);
        } else if op != 0 {
            let src = d.get(at..at + usize::from(op))?;
            at += usize::from(op);
            if out.len() + src.len() > size {
                return None;
            }
            out.extend_from_slice(src);
        } else {
            return None;
        }
    }
    (out.len() == size).then_some(out)
}

#[cfg(test)]
#[path = "pack_tests.rs"]
mod tests;
