//! A report's findings kept on disk until the end: each finding is rendered for the output
//! format when it arrives and written to an anonymous temporary file, and only its sort key
//! stays in memory. A million findings cost a few dozen MB, not gigabytes, and the report
//! still comes out sorted by path, line, column and rule.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use super::{json, sarif, text, Format, ReportOptions, RunStats, ScanError};
use crate::finding::{Finding, Severity};

/// Where one finding sits in the report order and in the spool file.
pub(crate) struct Key {
    pub path: Arc<str>,
    line: usize,
    column: usize,
    pub rule: Arc<str>,
    pub severity: Severity,
    offset: u64,
    len: u32,
}

/// Findings of one report, rendered on arrival and written out in order by [`Spool::finish`].
pub struct Spool {
    format: Format,
    opts: ReportOptions,
    /// Whether [`Spool::finish`] sorts (the CLI) or keeps arrival order (`write_json` ...).
    sort: bool,
    file: BufWriter<File>,
    written: u64,
    keys: Vec<Key>,
    /// Paths and rule ids are shared by many findings: one copy each.
    names: HashSet<Arc<str>>,
    /// First description and severity seen per rule id (SARIF `rules[]` of custom rules).
    rules: BTreeMap<Arc<str>, (String, Severity)>,
}

impl Spool {
    /// An empty spool for `format` whose report is sorted by path, line, column and rule
    /// (JSONL is streamed by the caller and needs none).
    pub fn new(format: Format, opts: ReportOptions) -> io::Result<Spool> {
        Self::with_order(format, opts, true)
    }

    /// An empty spool whose report keeps the order findings were pushed in.
    pub fn in_order(format: Format, opts: ReportOptions) -> io::Result<Spool> {
        Self::with_order(format, opts, false)
    }

    fn with_order(format: Format, opts: ReportOptions, sort: bool) -> io::Result<Spool> {
        Ok(Spool {
            format,
            opts,
            sort,
            file: BufWriter::new(tempfile::tempfile()?),
            written: 0,
            keys: Vec::new(),
            names: HashSet::new(),
            rules: BTreeMap::new(),
        })
    }

    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.names.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.names.insert(a.clone());
        a
    }

    /// Renders `f` and keeps it for the report.
    pub fn push(&mut self, f: &Finding) -> io::Result<()> {
        let bytes = match self.format {
            Format::Text => text::finding_line(f, &self.opts).into_bytes(),
            Format::Json | Format::Jsonl => {
                serde_json::to_vec_pretty(&json::finding_value(f, &self.opts)?)?
            }
            Format::Sarif => serde_json::to_vec_pretty(&sarif::result(f, &self.opts)?)?,
        };
        let len = u32::try_from(bytes.len()).map_err(io::Error::other)?;
        self.file.write_all(&bytes)?;
        let (path, rule) = (self.intern(&f.path), self.intern(&f.rule_id));
        self.rules
            .entry(rule.clone())
            .or_insert_with(|| (f.description.clone(), f.severity));
        self.keys.push(Key {
            path,
            line: f.line,
            column: f.column,
            rule,
            severity: f.severity,
            offset: self.written,
            len,
        });
        self.written += u64::from(len);
        Ok(())
    }

    /// Number of findings kept.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no finding was kept.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Writes the whole report (findings sorted, then `stats` and `errors`) to `w`.
    pub fn finish(
        mut self,
        w: &mut dyn Write,
        stats: &RunStats,
        errors: &[ScanError],
    ) -> io::Result<()> {
        if self.sort {
            self.keys.sort_by(|a, b| {
                (&*a.path, a.line, a.column, &*a.rule).cmp(&(&*b.path, b.line, b.column, &*b.rule))
            });
        }
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        let mut reader = Fragments {
            file: &mut file,
            buf: Vec::new(),
        };
        let keys = &self.keys;
        match self.format {
            Format::Text => text::write_spooled(w, keys, &mut reader, errors, &self.opts),
            Format::Json | Format::Jsonl => {
                json::write_spooled(w, keys, &mut reader, stats, errors)
            }
            Format::Sarif => sarif::write_spooled(w, keys, &self.rules, &mut reader, stats, errors),
        }
    }
}

/// Reads rendered findings back from the spool file.
pub(crate) struct Fragments<'a> {
    file: &'a mut File,
    buf: Vec<u8>,
}

impl Fragments<'_> {
    /// The rendered bytes of `k`.
    pub fn get(&mut self, k: &Key) -> io::Result<&[u8]> {
        self.buf.resize(k.len as usize, 0);
        self.file.seek(SeekFrom::Start(k.offset))?;
        self.file.read_exact(&mut self.buf)?;
        Ok(&self.buf)
    }
}

/// Writes `bytes` with every line after the first indented by `n` spaces, so a fragment
/// pretty-printed at depth 0 sits at its depth in the document.
pub(crate) fn write_indented(w: &mut dyn Write, bytes: &[u8], n: usize) -> io::Result<()> {
    const SPACES: &[u8] = &[b' '; 32];
    let mut lines = bytes.split(|&b| b == b'\n');
    if let Some(first) = lines.next() {
        w.write_all(first)?;
    }
    for line in lines {
        w.write_all(b"\n")?;
        w.write_all(&SPACES[..n.min(SPACES.len())])?;
        w.write_all(line)?;
    }
    Ok(())
}
