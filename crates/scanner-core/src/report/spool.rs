//! A report's findings kept on disk until the end: each finding is rendered for the output
//! format when it arrives and written to an anonymous temporary file, and only its sort key
//! stays in memory. A million findings cost a few dozen MB, not gigabytes, and the report
//! still comes out sorted by repository, path, line, column and rule.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use super::{html, json, sarif, text, Format, ReportOptions, RunStats, ScanError};
use crate::finding::{Finding, Severity};

/// Where one finding sits in the report order and in the spool file.
pub(crate) struct Key {
    pub path: Arc<str>,
    /// The finding's `credential_id`: the text report groups by it.
    pub credential: Arc<str>,
    line: usize,
    column: usize,
    pub rule: Arc<str>,
    pub severity: Severity,
    /// The finding's repository (multi-repository runs and merged reports).
    pub repository: Option<Arc<str>>,
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
    /// Per credential (text reports only): its heading and what its locations add up to.
    groups: Groups,
    /// The run's `config_digest`, for the JSON and SARIF reports.
    config_digest: Option<String>,
    /// The first repository seen, and whether findings name another one too: then text
    /// and HTML locations say which repository each is in.
    first_repository: Option<Arc<str>>,
    several_repositories: bool,
}

/// The text report's credentials by `credential_id`.
pub(crate) type Groups = HashMap<Arc<str>, Group>;

/// One credential of a text report: a few dozen bytes whatever the number of locations.
pub(crate) struct Group {
    /// The highest severity of its locations.
    pub severity: Severity,
    /// Where its heading (rule, identity, redacted secret) sits in the spool file.
    pub heading: (u64, u32),
    /// In arrival order, for reports that keep it.
    arrival: usize,
    locations: u64,
    /// The distinct repositories its locations are in (one pointer each, interned).
    repositories: HashSet<Arc<str>>,
    /// Earliest and latest commit holding it (history scans): (unix time, commit, date).
    first: Option<(i64, String, String)>,
    last: Option<(i64, String, String)>,
}

impl Group {
    /// `credential ID: N locations, first commit …, last commit …`.
    pub fn summary(&self, id: &str) -> String {
        let mut s = format!(
            "credential {id}: {} location{}",
            self.locations,
            if self.locations == 1 { "" } else { "s" }
        );
        if self.repositories.len() > 1 {
            s.push_str(&format!(" in {} repositories", self.repositories.len()));
        }
        match (&self.first, &self.last) {
            (Some(a), Some(b)) if a.1 != b.1 => s.push_str(&format!(
                ", first commit {} {}, last commit {} {}",
                short(&a.1),
                a.2,
                short(&b.1),
                b.2
            )),
            (Some(a), _) => s.push_str(&format!(", commit {} {}", short(&a.1), a.2)),
            _ => {}
        }
        s
    }

    fn add(&mut self, f: &Finding, repository: Option<&Arc<str>>) {
        self.locations += 1;
        if let Some(r) = repository {
            self.repositories.insert(r.clone());
        }
        self.severity = self.severity.max(f.severity);
        let Some(g) = &f.git else { return };
        let t =
            time::OffsetDateTime::parse(&g.date, &time::format_description::well_known::Rfc3339)
                .map_or(i64::MIN, |d| d.unix_timestamp());
        let entry = || (t, g.commit.clone(), g.date.clone());
        if self.first.as_ref().is_none_or(|f| t < f.0) {
            self.first = Some(entry());
        }
        if self.last.as_ref().is_none_or(|l| t > l.0) {
            self.last = Some(entry());
        }
    }
}

fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

impl Spool {
    /// An empty spool for `format` whose report is sorted by repository, path, line, column
    /// and rule
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
            groups: HashMap::new(),
            config_digest: None,
            first_repository: None,
            several_repositories: false,
        })
    }

    /// Text and HTML locations name their repository even when all are in one: the
    /// report is of several repositories (a fleet scan, a merge), whichever had findings.
    pub fn name_repositories(&mut self) {
        self.several_repositories = true;
    }

    /// Records the run's [`ConfigDigest`](super::ConfigDigest) for the report.
    pub fn set_config_digest(&mut self, digest: impl Into<String>) {
        self.config_digest = Some(digest.into());
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
            Format::Json => serde_json::to_vec_pretty(&json::finding_value(f, &self.opts)?)?,
            Format::Jsonl => serde_json::to_vec(&json::finding_value(f, &self.opts)?)?,
            Format::Sarif => serde_json::to_vec_pretty(&sarif::result(f, &self.opts)?)?,
            Format::Html => html::finding_row(f).into_bytes(),
        };
        let len = u32::try_from(bytes.len()).map_err(io::Error::other)?;
        self.file.write_all(&bytes)?;
        let offset = self.written;
        self.written += u64::from(len);
        let (path, rule) = (self.intern(&f.path), self.intern(&f.rule_id));
        let credential = self.intern(&f.credential_id);
        let repository = f.repository.as_deref().map(|r| self.intern(r));
        if let Some(r) = &repository {
            match &self.first_repository {
                None => self.first_repository = Some(r.clone()),
                Some(first) if first != r => self.several_repositories = true,
                Some(_) => {}
            }
        }
        if self.grouped() {
            if !self.groups.contains_key(&credential) {
                let heading = match self.format {
                    Format::Html => html::credential_heading(f, &self.opts),
                    // The heading line, then what to do about the credential.
                    _ => format!(
                        "{}\n  {}",
                        text::credential_heading(f, &self.opts),
                        text::fix_line(f)
                    ),
                }
                .into_bytes();
                let heading_len = u32::try_from(heading.len()).map_err(io::Error::other)?;
                self.file.write_all(&heading)?;
                let group = Group {
                    severity: f.severity,
                    heading: (self.written, heading_len),
                    arrival: self.groups.len(),
                    locations: 0,
                    repositories: HashSet::new(),
                    first: None,
                    last: None,
                };
                self.written += u64::from(heading_len);
                self.groups.insert(credential.clone(), group);
            }
            if let Some(g) = self.groups.get_mut(&credential) {
                g.add(f, repository.as_ref());
            }
        }
        self.rules
            .entry(rule.clone())
            .or_insert_with(|| (f.description.clone(), f.severity));
        self.keys.push(Key {
            path,
            credential,
            line: f.line,
            column: f.column,
            rule,
            severity: f.severity,
            repository,
            offset,
            len,
        });
        Ok(())
    }

    /// Renders a whole in-memory report in `format`, findings in the order given.
    pub(crate) fn render(
        format: Format,
        report: &super::Report,
        opts: &ReportOptions,
        w: &mut dyn Write,
    ) -> io::Result<()> {
        let mut spool = Spool::in_order(format, *opts)?;
        spool.config_digest = report.config_digest.clone();
        for f in &report.findings {
            spool.push(f)?;
        }
        spool.finish(w, &report.stats, &report.errors)
    }

    /// Whether the report groups locations by credential (text and HTML).
    fn grouped(&self) -> bool {
        matches!(self.format, Format::Text | Format::Html)
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
            // Repository first: a multi-repository report lists each repository's together.
            fn order(k: &Key) -> (Option<&str>, &str, usize, usize, &str) {
                (k.repository.as_deref(), &k.path, k.line, k.column, &k.rule)
            }
            self.keys.sort_by(|a, b| order(a).cmp(&order(b)));
        }
        if self.grouped() {
            // Credentials by severity, then where each is first found (or by arrival, for
            // reports that keep it); the sort is stable, so locations keep their order.
            let mut first: HashMap<&str, usize> = HashMap::new();
            for (i, k) in self.keys.iter().enumerate() {
                first.entry(&*k.credential).or_insert(i);
            }
            let groups = &self.groups;
            let rank = |k: &Key| {
                let g = groups.get(&k.credential);
                let sev = std::cmp::Reverse(g.map_or(k.severity, |g| g.severity));
                let at = if self.sort {
                    first.get(&*k.credential).copied().unwrap_or(0)
                } else {
                    g.map_or(0, |g| g.arrival)
                };
                (sev, at)
            };
            let mut order: Vec<((std::cmp::Reverse<Severity>, usize), usize)> = self
                .keys
                .iter()
                .enumerate()
                .map(|(i, k)| (rank(k), i))
                .collect();
            order.sort();
            let mut keys: Vec<Option<Key>> = std::mem::take(&mut self.keys)
                .into_iter()
                .map(Some)
                .collect();
            self.keys = order
                .into_iter()
                .filter_map(|(_, i)| keys[i].take())
                .collect();
        }
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        let mut reader = Fragments {
            file: &mut file,
            buf: Vec::new(),
        };
        let keys = &self.keys;
        let digest = self.config_digest.as_deref();
        let groups = &self.groups;
        // Locations name their repository only when there is more than one to tell apart.
        let several = self.several_repositories;
        match self.format {
            Format::Text => {
                let opts = &self.opts;
                text::write_spooled(w, keys, groups, &mut reader, errors, opts, several)
            }
            Format::Json => json::write_spooled(w, keys, &mut reader, stats, errors, digest),
            Format::Jsonl => json::write_lines(w, keys, &mut reader),
            Format::Sarif => {
                let seen = &self.rules;
                sarif::write_spooled(w, keys, seen, &mut reader, stats, errors, digest)
            }
            Format::Html => {
                html::write_spooled(w, keys, groups, &mut reader, stats, errors, several)
            }
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
        self.get_at(k.offset, k.len)
    }

    /// The `len` bytes at `offset` of the spool file.
    pub fn get_at(&mut self, offset: u64, len: u32) -> io::Result<&[u8]> {
        self.buf.resize(len as usize, 0);
        self.file.seek(SeekFrom::Start(offset))?;
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

/// `N critical, M high, …` over the credentials of a grouped report (highest severity of
/// each), most severe first.
pub(crate) fn severity_tally(groups: &Groups) -> Vec<String> {
    [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ]
    .into_iter()
    .filter_map(|s| {
        let n = groups.values().filter(|g| g.severity == s).count();
        (n > 0).then(|| format!("{n} {s}"))
    })
    .collect()
}
