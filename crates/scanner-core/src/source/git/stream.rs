//! Big blobs read as streams, so memory stays bounded whatever their size.
//!
//! libgit2 reads an object whole (a 1 GB blob costs 1 GB of memory), and its `odb.reader`
//! streams loose objects only. Here a loose blob is inflated from its file, and a packed
//! blob stored whole (git does not deltify files above `core.bigFileThreshold`, 512 MiB by
//! default) is inflated from its pack, found through the pack's `.idx` (version 2).
//! Deltified blobs, and anything not found here, are left to libgit2.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use flate2::bufread::ZlibDecoder;
use git2::Oid;

/// Blobs at least this big are streamed (the file scan's in-memory limit).
pub(crate) const STREAM_FROM: u64 = 8 << 20;

/// Bytes of the `.idx` v2 header: magic, version, 256 fan-out counts.
const IDX_HEADER: u64 = 8 + 256 * 4;
/// Pack object type of a whole (undeltified) blob.
const OBJ_BLOB: u8 = 3;

/// The packs of a repository's object directory, opened on first use.
#[derive(Debug, Default)]
pub(crate) struct Packs {
    dir: PathBuf,
    packs: OnceLock<Vec<Pack>>,
}

/// One pack and its index.
#[derive(Debug)]
struct Pack {
    idx: File,
    pack: File,
    /// Objects with a first byte up to each value (the `.idx` fan-out table).
    fanout: Vec<u32>,
}

impl Packs {
    /// The packs under the object directory of the repository whose git directory is
    /// `git_dir` (honouring `GIT_OBJECT_DIRECTORY`); nothing is opened yet.
    pub(crate) fn new(git_dir: &Path) -> Packs {
        let objects = std::env::var_os("GIT_OBJECT_DIRECTORY")
            .map(PathBuf::from)
            .unwrap_or_else(|| git_dir.join("objects"));
        Packs {
            dir: objects.join("pack"),
            packs: OnceLock::new(),
        }
    }

    /// The pack directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn packs(&self) -> &[Pack] {
        self.packs.get_or_init(|| open_packs(&self.dir))
    }

    /// A reader of blob `id`'s content, when it is stored whole in one of the packs.
    pub(crate) fn open_blob(&self, id: Oid) -> Option<Exact<ZlibDecoder<BufReader<At<'_>>>>> {
        self.packs().iter().find_map(|p| p.open_blob(id))
    }
}

/// Every readable `pack-*.idx` (version 2) with its `.pack`; unreadable ones are left out
/// (libgit2 then reads those objects, and reports what it cannot).
fn open_packs(dir: &Path) -> Vec<Pack> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().and_then(|x| x.to_str()) != Some("idx") {
            continue;
        }
        let (Ok(idx), Ok(pack)) = (File::open(&path), File::open(path.with_extension("pack")))
        else {
            continue;
        };
        let mut header = vec![0u8; IDX_HEADER as usize];
        if idx.read_exact_at(&mut header, 0).is_err() || header[..8] != *b"\xfftOc\0\0\0\x02" {
            continue;
        }
        let fanout = header[8..]
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.push(Pack { idx, pack, fanout });
    }
    out
}

impl Pack {
    fn u32_at(&self, at: u64) -> Option<u32> {
        let mut b = [0u8; 4];
        self.idx.read_exact_at(&mut b, at).ok()?;
        Some(u32::from_be_bytes(b))
    }

    /// Where object `id` starts in the pack, by binary search of the sorted id table.
    fn offset(&self, id: Oid) -> Option<u64> {
        let want = id.as_bytes();
        let first = usize::from(*want.first()?);
        let count = u64::from(*self.fanout.last()?);
        let mut lo = if first == 0 {
            0
        } else {
            self.fanout[first - 1]
        };
        let mut hi = self.fanout[first];
        let mut name = [0u8; 20];
        let found = loop {
            if lo >= hi {
                return None;
            }
            let mid = lo + (hi - lo) / 2;
            self.idx
                .read_exact_at(&mut name, IDX_HEADER + 20 * u64::from(mid))
                .ok()?;
            match name[..].cmp(want) {
                std::cmp::Ordering::Equal => break u64::from(mid),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        };
        let small = self.u32_at(IDX_HEADER + 24 * count + 4 * found)?;
        if small & 0x8000_0000 == 0 {
            return Some(u64::from(small));
        }
        let mut b = [0u8; 8];
        let large = IDX_HEADER + 28 * count + 8 * u64::from(small & 0x7fff_ffff);
        self.idx.read_exact_at(&mut b, large).ok()?;
        Some(u64::from_be_bytes(b))
    }

    fn open_blob(&self, id: Oid) -> Option<Exact<ZlibDecoder<BufReader<At<'_>>>>> {
        let at = self.offset(id)?;
        let mut head = [0u8; 16];
        let n = self.pack.read_at(&mut head, at).ok()?;
        let (kind, size, len) = entry_header(&head[..n])?;
        if kind != OBJ_BLOB {
            return None;
        }
        let body = At {
            file: &self.pack,
            pos: at + len as u64,
        };
        Some(Exact::new(ZlibDecoder::new(BufReader::new(body)), size))
    }
}

/// A pack entry's (type, inflated size, header length): 3 type bits and a little-endian
/// base-128 size.
pub(crate) fn entry_header(h: &[u8]) -> Option<(u8, u64, usize)> {
    let c = *h.first()?;
    let kind = (c >> 4) & 7;
    let mut size = u64::from(c & 15);
    let mut shift = 4;
    let mut i = 0;
    let mut more = c & 0x80 != 0;
    while more {
        i += 1;
        let c = *h.get(i)?;
        if shift > 57 {
            return None;
        }
        size |= u64::from(c & 0x7f) << shift;
        shift += 7;
        more = c & 0x80 != 0;
    }
    Some((kind, size, i + 1))
}

/// Reads a file from a position with `pread`, so threads share one handle.
pub(crate) struct At<'f> {
    file: &'f File,
    pos: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Exactly `size` bytes of `inner`: fewer is a truncated object, an error.
pub(crate) struct Exact<R> {
    inner: R,
    left: u64,
    /// Whether the stream was read to its end past the last byte of content.
    checked: bool,
}

impl<R: Read> Exact<R> {
    fn new(inner: R, size: u64) -> Self {
        Exact {
            inner,
            left: size,
            checked: false,
        }
    }

    /// Bytes still to come.
    pub(crate) fn len(&self) -> u64 {
        self.left
    }
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // Read on to the end of the zlib stream: its Adler-32 trailer is what tells
            // damaged content that still inflated to the right length from the real one.
            if !self.checked {
                self.checked = true;
                let mut probe = [0u8; 1];
                if self.inner.read(&mut probe)? != 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "object data runs past the size in its header",
                    ));
                }
            }
            return Ok(0);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("object data ends {} bytes early", self.left),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A reader of a loose blob's content (the file was checked by
/// [`LooseObjects::check`](super::objects::LooseObjects::check) first).
pub(crate) fn open_loose(path: &Path) -> io::Result<Exact<ZlibDecoder<BufReader<File>>>> {
    let mut z = ZlibDecoder::new(BufReader::new(File::open(path)?));
    let mut header = Vec::new();
    let mut byte = [0u8; 1];
    while header.len() < 64 {
        z.read_exact(&mut byte)?;
        if byte[0] == 0 {
            let text = String::from_utf8_lossy(&header);
            let size = text
                .strip_prefix("blob ")
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not a blob"))?;
            return Ok(Exact::new(z, size));
        }
        header.push(byte[0]);
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "no object header",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_that_inflates_to_the_right_length_is_an_error() {
        use flate2::write::ZlibEncoder;
        use flate2::Compression;
        use std::io::Write;
        let content = b"KUBE_TOKEN=not-this-one\n".repeat(100);
        // Stored (uncompressed) deflate blocks: a flipped content byte still inflates to
        // exactly `len` bytes, and only the Adler-32 trailer tells.
        let mut z = ZlibEncoder::new(Vec::new(), Compression::none());
        z.write_all(&content).unwrap();
        let mut packed = z.finish().unwrap();
        let read = |packed: &[u8]| {
            let mut r = Exact::new(ZlibDecoder::new(packed), content.len() as u64);
            let mut out = Vec::new();
            r.read_to_end(&mut out).map(|_| out)
        };
        assert_eq!(read(&packed).unwrap(), content);
        packed[20] ^= 0x01;
        assert!(read(&packed).is_err(), "checksum not verified");
        // Content longer than its header says is damage too.
        let short = Exact::new(ZlibDecoder::new(&packed[..]), 10).read_to_end(&mut Vec::new());
        assert!(short.is_err());
    }

    #[test]
    fn pack_entry_headers() {
        // A blob of 5 bytes: type 3, size in the low nibble.
        assert_eq!(entry_header(&[0x35]), Some((3, 5, 1)));
        // 1 GiB: continuation bytes carry the rest of the size.
        let mut h = vec![0x80 | 0x30];
        let mut rest = (1u64 << 30) >> 4;
        while rest > 0 {
            let more = if rest >> 7 > 0 { 0x80 } else { 0 };
            h.push((rest & 0x7f) as u8 | more);
            rest >>= 7;
        }
        assert_eq!(entry_header(&h), Some((3, 1 << 30, h.len())));
        assert_eq!(entry_header(&[0xb5]), None);
        assert_eq!(entry_header(&[0xff; 16]), None);
    }

    /// `git` in `dir` with no user or system configuration.
    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_OBJECT_DIRECTORY")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    #[test]
    fn whole_packed_and_loose_blobs_stream_exactly_deltas_are_left_to_libgit2() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q"]);
        let v1: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
        let v2 = format!("{v1}one more line\n");
        std::fs::write(d.join("a.txt"), &v1).unwrap();
        let id1 = Oid::from_str(&git(d, &["hash-object", "-w", "a.txt"])).unwrap();
        std::fs::write(d.join("a.txt"), &v2).unwrap();
        let id2 = Oid::from_str(&git(d, &["hash-object", "-w", "a.txt"])).unwrap();

        let loose = d
            .join(".git/objects")
            .join(&id1.to_string()[..2])
            .join(&id1.to_string()[2..]);
        let mut out = Vec::new();
        open_loose(&loose).unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out, v1.as_bytes());

        // Pack both: one is stored whole, the other as a delta against it.
        git(d, &["add", "a.txt"]);
        git(
            d,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "commit",
                "-qm",
                "v2",
            ],
        );
        git(d, &["update-ref", "refs/keep", &id1.to_string()]);
        git(d, &["gc", "-q"]);
        let packs = Packs::new(&d.join(".git"));
        let (mut whole, mut deltas) = (0, 0);
        for (id, text) in [(id1, &v1), (id2, &v2)] {
            match packs.open_blob(id) {
                Some(mut r) => {
                    let mut out = Vec::new();
                    r.read_to_end(&mut out).unwrap();
                    assert_eq!(out, text.as_bytes());
                    whole += 1;
                }
                None => deltas += 1,
            }
        }
        assert_eq!((whole, deltas), (1, 1));
        assert!(packs
            .open_blob(Oid::from_str(&"ab".repeat(20)).unwrap())
            .is_none());
    }

    #[test]
    fn exact_refuses_short_data() {
        let mut out = Vec::new();
        let err = Exact::new(&b"abc"[..], 5)
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        // More than the header's size is damage too (a zlib stream ends where its data does).
        let mut out = Vec::new();
        let err = Exact::new(&b"abcdef"[..], 5)
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(out, b"abcde");
    }
}
