//! Reading audit logs: plain or gzip (by magic, not name), in chunks of whole lines that a
//! reader thread fills while the previous chunk is searched in parallel. Memory is a few
//! chunks, whatever the log's size; a line longer than [`MAX_LINE`] is skipped and counted.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc;

use rayon::prelude::*;
use serde::Serialize;

use super::event::Event;
use super::matcher::{Hit, Matcher, Request};
use super::summary::{Observation, Summary};

/// Bytes handed to the workers at once.
const CHUNK: usize = 8 << 20;
/// Longest line read; a longer one is skipped as malformed (no Event is that big).
pub const MAX_LINE: usize = 64 << 20;
/// Line numbers of malformed lines kept per log.
const MALFORMED_LISTED: usize = 10;

/// How one log was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Plain JSON lines.
    None,
    /// gzip (one or more members, as `logrotate` and `cat a.gz b.gz` make them).
    Gzip,
}

/// What reading one log found.
#[derive(Debug, Clone, Serialize)]
pub struct LogStats {
    /// The log as named on the command line.
    pub path: String,
    /// How it was stored.
    pub compression: Compression,
    /// Bytes of JSON lines read (after decompression).
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Lines that are not a JSON object, or that hold an identifier looked for but do not
    /// parse as an Event.
    pub malformed: u64,
    /// Line numbers of the first malformed lines.
    pub malformed_lines: Vec<u64>,
    /// Lines parsed in full (they held an identifier looked for).
    pub parsed: u64,
    /// Events that involve a credential of the report.
    pub matched: u64,
    /// Why the log could not be read to its end, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LogStats {
    /// Empty statistics for `path`.
    pub fn new(path: impl Into<String>, compression: Compression) -> LogStats {
        LogStats {
            path: path.into(),
            compression,
            bytes: 0,
            lines: 0,
            malformed: 0,
            malformed_lines: Vec::new(),
            parsed: 0,
            matched: 0,
            error: None,
        }
    }

    fn note_malformed(&mut self, line: u64) {
        self.malformed += 1;
        if self.malformed_lines.len() < MALFORMED_LISTED {
            self.malformed_lines.push(line);
        }
    }
}

/// Opens a log (`-` is standard input) and tells gzip by its magic bytes.
pub fn open(path: &Path) -> io::Result<(Box<dyn Read + Send>, Compression)> {
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(std::fs::File::open(path)?)
    };
    sniff(raw)
}

/// Wraps `raw` in a gzip decoder when it starts with gzip's magic.
pub fn sniff(raw: Box<dyn Read + Send>) -> io::Result<(Box<dyn Read + Send>, Compression)> {
    let mut r = BufReader::with_capacity(1 << 20, raw);
    let head = r.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok((
            Box::new(flate2::bufread::MultiGzDecoder::new(r)),
            Compression::Gzip,
        ))
    } else {
        Ok((Box::new(r), Compression::None))
    }
}

/// A run of whole lines, and what the reader dropped before it.
struct Chunk {
    data: Vec<u8>,
    /// Over-long lines skipped just before `data`.
    skipped_lines: u64,
}

/// Reads `reader` to its end, handing every event that involves a credential to `summary`.
pub fn scan(
    reader: &mut (dyn Read + Send),
    matcher: &Matcher,
    summary: &mut Summary,
    stats: &mut LogStats,
) {
    let (tx, rx) = mpsc::sync_channel::<io::Result<Chunk>>(2);
    let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|s| {
        s.spawn(move || read_chunks(reader, &tx, &back_rx));
        let mut line_no = 0u64;
        for msg in rx {
            let chunk = match msg {
                Ok(c) => c,
                Err(e) => {
                    stats.error = Some(e.to_string());
                    break;
                }
            };
            for _ in 0..chunk.skipped_lines {
                line_no += 1;
                stats.lines += 1;
                stats.note_malformed(line_no);
            }
            stats.bytes += chunk.data.len() as u64;
            line_no = search_chunk(&chunk.data, line_no, matcher, summary, stats);
            let _ = back_tx.send(chunk.data);
        }
    });
}

/// The reader thread: fills chunks that end at a line's end, recycling the buffers.
fn read_chunks(
    reader: &mut (dyn Read + Send),
    tx: &mpsc::SyncSender<io::Result<Chunk>>,
    back: &mpsc::Receiver<Vec<u8>>,
) {
    let mut carry: Vec<u8> = Vec::new();
    let mut skipped_lines = 0u64;
    // Skipping the rest of an over-long line.
    let mut skipping = false;
    loop {
        let mut buf = back
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK + (1 << 16)));
        buf.clear();
        buf.append(&mut carry);
        let eof = match fill(reader, &mut buf, CHUNK) {
            Ok(eof) => eof,
            Err(e) => {
                // What was read before the damage still counts (a cut last line is
                // counted malformed).
                if !skipping {
                    let _ = tx.send(Ok(Chunk {
                        data: buf,
                        skipped_lines,
                    }));
                }
                let _ = tx.send(Err(e));
                return;
            }
        };
        if skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    buf.drain(..=i);
                    skipping = false;
                }
                None if eof => {
                    return drop(tx.send(Ok(Chunk {
                        data: Vec::new(),
                        skipped_lines,
                    })))
                }
                None => {
                    buf.clear();
                    carry = buf;
                    continue;
                }
            }
        }
        if eof {
            let _ = tx.send(Ok(Chunk {
                data: buf,
                skipped_lines,
            }));
            return;
        }
        match memchr::memrchr(b'\n', &buf) {
            Some(i) => {
                carry.extend_from_slice(&buf[i + 1..]);
                buf.truncate(i + 1);
                if tx
                    .send(Ok(Chunk {
                        data: buf,
                        skipped_lines: std::mem::take(&mut skipped_lines),
                    }))
                    .is_err()
                {
                    return;
                }
            }
            // One line longer than a chunk: read on, up to MAX_LINE.
            None if buf.len() < MAX_LINE => carry = buf,
            None => {
                skipped_lines += 1;
                skipping = true;
            }
        }
    }
}

/// Reads into `buf` until it holds `want` bytes or the input ends; true at the end.
fn fill(r: &mut (dyn Read + Send), buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    while buf.len() < want {
        let len = buf.len();
        let room = (want - len).max(1 << 16);
        buf.resize(len + room, 0);
        match r.read(&mut buf[len..]) {
            Ok(0) => {
                buf.truncate(len);
                return Ok(true);
            }
            Ok(n) => buf.truncate(len + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(len),
            Err(e) => {
                buf.truncate(len);
                return Err(e);
            }
        }
    }
    Ok(false)
}

/// What one piece of a chunk held.
#[derive(Default)]
struct Piece {
    lines: u64,
    /// Line numbers within the piece (0-based) of malformed lines, the first few.
    malformed_at: Vec<u64>,
    malformed: u64,
    parsed: u64,
    matched: u64,
    observations: Vec<Observation>,
}

/// Searches one chunk in parallel pieces and hands its observations to `summary` in log
/// order; returns the number of the chunk's last line.
fn search_chunk(
    data: &[u8],
    first_line: u64,
    matcher: &Matcher,
    summary: &mut Summary,
    stats: &mut LogStats,
) -> u64 {
    let parts = rayon::current_num_threads().max(1) * 4;
    let mut bounds = vec![0usize];
    for k in 1..parts {
        let at = (data.len() * k / parts).max(*bounds.last().unwrap_or(&0));
        let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i + 1);
        bounds.push(end);
    }
    bounds.push(data.len());
    bounds.dedup();
    let pieces: Vec<Piece> = bounds
        .par_windows(2)
        .map(|w| search_piece(&data[w[0]..w[1]], matcher))
        .collect();
    let mut line_no = first_line;
    for p in pieces {
        for at in p.malformed_at {
            if stats.malformed_lines.len() < MALFORMED_LISTED {
                stats.malformed_lines.push(line_no + at + 1);
            }
        }
        stats.malformed += p.malformed;
        line_no += p.lines;
        stats.lines += p.lines;
        stats.parsed += p.parsed;
        stats.matched += p.matched;
        for o in p.observations {
            summary.observe(o);
        }
    }
    line_no
}

/// The line's bytes without surrounding whitespace (`\r` of CRLF logs included).
fn trimmed(line: &[u8]) -> &[u8] {
    line.trim_ascii()
}

/// Whether a line could be a JSON object at all (the cheap check every line gets).
fn object_shaped(line: &[u8]) -> bool {
    line.first() == Some(&b'{') && line.last() == Some(&b'}')
}

fn search_piece(piece: &[u8], matcher: &Matcher) -> Piece {
    let mut p = Piece::default();
    let mut start = 0usize;
    let shape = |line: &[u8], p: &mut Piece| {
        let t = trimmed(line);
        if !t.is_empty() && !object_shaped(t) {
            if p.malformed_at.len() < MALFORMED_LISTED {
                p.malformed_at.push(p.lines);
            }
            p.malformed += 1;
        }
        p.lines += 1;
    };
    for nl in memchr::memchr_iter(b'\n', piece) {
        shape(&piece[start..nl], &mut p);
        start = nl + 1;
    }
    if start < piece.len() {
        shape(&piece[start..], &mut p);
    }
    let mut hits: Vec<Hit> = Vec::new();
    for (ls, le) in matcher.candidate_lines(piece) {
        let line = trimmed(&piece[ls..le]);
        if !object_shaped(line) {
            continue; // counted by the shape check
        }
        p.parsed += 1;
        let ev: Event<'_> = match serde_json::from_slice(line) {
            Ok(ev) => ev,
            Err(_) => {
                if p.malformed_at.len() < MALFORMED_LISTED {
                    let before = memchr::memchr_iter(b'\n', &piece[..ls]).count() as u64;
                    p.malformed_at.push(before);
                }
                p.malformed += 1;
                continue;
            }
        };
        if ev.kind.as_str() == "EventList" {
            for item in &ev.items {
                observe(item, matcher, &mut hits, &mut p);
            }
        } else {
            observe(&ev, matcher, &mut hits, &mut p);
        }
    }
    // Parse failures were found out of line order.
    p.malformed_at.sort_unstable();
    p
}

fn observe(ev: &Event<'_>, matcher: &Matcher, hits: &mut Vec<Hit>, p: &mut Piece) {
    hits.clear();
    matcher.hits(ev, hits);
    if hits.is_empty() {
        return;
    }
    p.matched += 1;
    let request = Request::of(ev);
    let last_stage = ev.is_final();
    for &hit in hits.iter() {
        p.observations.push(Observation {
            hit,
            last_stage,
            request: request.clone(),
        });
    }
}
