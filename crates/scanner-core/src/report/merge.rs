//! `leakscan merge`: joins JSON reports (one per shard of a fleet scan) into one report.
//!
//! Findings are read one at a time into a [`Spool`], so memory holds a 16-byte key per
//! finding, not the findings. A finding found in two reports (a repository in two shards,
//! a report given twice) is kept once: same fingerprint, repository, path, commit and
//! position. `credential_id` groups one credential across repositories. Stats are the
//! sums of the reports' (findings and credentials are counted again after
//! de-duplication); every error is kept, exact copies once. Reports must come from the
//! same leakscan version and configuration ([`super::ConfigDigest`]): findings of other
//! rules or another fingerprint key cannot be de-duplicated or grouped with these.
//!
//! Secrets stay as the reports hold them: a redacted report stays redacted whatever the
//! options, and a `--show-secrets` report is redacted unless the merge shows secrets too.

use std::collections::HashSet;
use std::fmt;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};

use super::{Format, ReportOptions, RunStats, ScanError, Spool, Tool};
use crate::finding::Finding;

/// Why reports could not be merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// A report could not be read.
    #[error("reading {report}: {source}")]
    Read {
        /// The report.
        report: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A report is not a JSON report of `leakscan scan|git --format json`.
    #[error(
        "{report} is not a leakscan JSON report (`leakscan scan|git --format json`): {source}"
    )]
    Parse {
        /// The report.
        report: String,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },
    /// A report lacks `tool` or `config_digest` (written by a leakscan before merge
    /// existed, or by a library user without a digest).
    #[error(
        "{report} has no `{missing}` (written by leakscan {version} or by an embedder); \
         merge needs reports of this leakscan: scan again with leakscan {ours}"
    )]
    Unversioned {
        /// The report.
        report: String,
        /// The field it lacks.
        missing: &'static str,
        /// Its top-level `version`, if any.
        version: String,
        /// This leakscan's version.
        ours: String,
    },
    /// Two reports come from different leakscan versions.
    #[error(
        "{report} was written by leakscan {version} but {first} by leakscan {first_version}: \
         scan every shard with the same leakscan"
    )]
    Version {
        /// The first report.
        first: String,
        /// Its version.
        first_version: String,
        /// The report that differs.
        report: String,
        /// Its version.
        version: String,
    },
    /// The reports come from another leakscan version than this one.
    #[error(
        "{report} was written by leakscan {version}, this is leakscan {ours}: merge with the \
         leakscan that scanned"
    )]
    NotThisVersion {
        /// The report.
        report: String,
        /// Its version.
        version: String,
        /// This leakscan's version.
        ours: String,
    },
    /// Two reports come from different configurations (rules, allowlists, fingerprint
    /// key, minimum severity ...).
    #[error(
        "{report} was scanned with another configuration than {first} (config_digest \
         {digest} vs {first_digest}): rules, --config file, LEAKSCAN_FINGERPRINT_KEY and \
         filtering options must be the same in every shard"
    )]
    Config {
        /// The first report.
        first: String,
        /// Its digest.
        first_digest: String,
        /// The report that differs.
        report: String,
        /// Its digest.
        digest: String,
    },
    /// No report was given.
    #[error("no report to merge")]
    NoReports,
    /// Writing the merged report (or its spool) failed.
    #[error("writing the merged report: {0}")]
    Write(#[source] io::Error),
}

/// What a merge came to.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct MergeSummary {
    /// Reports joined.
    pub reports: usize,
    /// Findings found in more than one report, kept once.
    pub duplicates: u64,
    /// The merged report's stats.
    pub stats: RunStats,
    /// Errors in the merged report.
    pub errors: usize,
}

/// Joins JSON reports into one report in a chosen format.
pub struct Merger {
    spool: Spool,
    /// Dedup keys of the findings kept.
    seen: HashSet<u128>,
    credentials: HashSet<u128>,
    stats: RunStats,
    all_complete: bool,
    commits: Option<u64>,
    errors: Vec<ScanError>,
    error_seen: HashSet<ScanError>,
    /// The first report, its tool and digest: what every other must agree with.
    first: Option<(String, Tool, String)>,
    reports: usize,
    duplicates: u64,
}

impl fmt::Debug for Merger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Merger")
            .field("reports", &self.reports)
            .field("findings", &self.seen.len())
            .finish_non_exhaustive()
    }
}

impl Merger {
    /// A merger whose report comes out in `format` (findings sorted by repository, path,
    /// line, column and rule).
    pub fn new(format: Format, opts: ReportOptions) -> io::Result<Merger> {
        let mut spool = Spool::new(format, opts)?;
        spool.name_repositories();
        Ok(Merger {
            spool,
            seen: HashSet::new(),
            credentials: HashSet::new(),
            stats: RunStats::default(),
            all_complete: true,
            commits: None,
            errors: Vec::new(),
            error_seen: HashSet::new(),
            first: None,
            reports: 0,
            duplicates: 0,
        })
    }

    /// Adds the JSON report in `path` (read twice: checked first, then its findings).
    pub fn add_file(&mut self, path: &Path) -> Result<(), MergeError> {
        let name = path.display().to_string();
        let open = || std::fs::File::open(path).map(|f| Box::new(f) as Box<dyn Read>);
        self.add_with(&name, &open)
    }

    /// Adds a JSON report held in memory; `name` stands for it in errors.
    pub fn add_bytes(&mut self, name: &str, report: &[u8]) -> Result<(), MergeError> {
        let open = || Ok(Box::new(report) as Box<dyn Read + '_>);
        self.add_with(name, &open)
    }

    fn add_with<'r>(
        &mut self,
        name: &str,
        open: &dyn Fn() -> io::Result<Box<dyn Read + 'r>>,
    ) -> Result<(), MergeError> {
        let read_err = |source| MergeError::Read {
            report: name.to_owned(),
            source,
        };
        // First pass: the header, stats and errors; findings are only checked for shape.
        let mut head = Head::default();
        parse(name, open().map_err(read_err)?, &mut head, None)?;
        self.check(name, &head)?;
        // Second pass: the findings, one at a time into the spool.
        let mut pushed: io::Result<()> = Ok(());
        let mut take = |f: Finding| {
            if pushed.is_ok() {
                pushed = self.push(f);
            }
        };
        parse(
            name,
            open().map_err(read_err)?,
            &mut Head::default(),
            Some(&mut take),
        )?;
        pushed.map_err(MergeError::Write)?;
        self.absorb(head);
        Ok(())
    }

    /// Checks `head` against this leakscan and the first report.
    fn check(&mut self, name: &str, head: &Head) -> Result<(), MergeError> {
        let ours = env!("CARGO_PKG_VERSION");
        let unversioned = |missing| MergeError::Unversioned {
            report: name.to_owned(),
            missing,
            version: head.version.clone().unwrap_or_else(|| "?".to_owned()),
            ours: ours.to_owned(),
        };
        let tool = head.tool.clone().ok_or_else(|| unversioned("tool"))?;
        let digest = head
            .config_digest
            .clone()
            .ok_or_else(|| unversioned("config_digest"))?;
        match &self.first {
            Some((first, t, _)) if t.version != tool.version => Err(MergeError::Version {
                first: first.clone(),
                first_version: t.version.clone(),
                report: name.to_owned(),
                version: tool.version,
            }),
            Some((first, _, d)) if *d != digest => Err(MergeError::Config {
                first: first.clone(),
                first_digest: d.clone(),
                report: name.to_owned(),
                digest,
            }),
            Some(_) => Ok(()),
            None if tool.name != "leakscan" || tool.version != ours => {
                Err(MergeError::NotThisVersion {
                    report: name.to_owned(),
                    version: format!("{} {}", tool.name, tool.version),
                    ours: ours.to_owned(),
                })
            }
            None => {
                self.spool.set_config_digest(digest.clone());
                self.first = Some((name.to_owned(), tool, digest));
                Ok(())
            }
        }
    }

    fn push(&mut self, f: Finding) -> io::Result<()> {
        if !self.seen.insert(identity(&f)) {
            self.duplicates += 1;
            return Ok(());
        }
        self.credentials.insert(credential(&f.credential_id));
        self.spool.push(&f)
    }

    /// Adds a checked report's stats and errors.
    fn absorb(&mut self, head: Head) {
        self.reports += 1;
        let s = head.stats;
        let t = &mut self.stats;
        t.files += s.files;
        t.bytes += s.bytes;
        t.skipped += s.skipped;
        t.incomplete += s.incomplete;
        t.elapsed_secs += s.elapsed_secs;
        t.suppressed += s.suppressed;
        for (kind, n) in s.skipped_by_reason {
            *t.skipped_by_reason.entry(kind).or_default() += n;
        }
        if let Some(c) = s.commits {
            *self.commits.get_or_insert(0) += c;
        }
        self.all_complete &= s.complete;
        for e in head.errors {
            if self.error_seen.insert(e.clone()) {
                self.errors.push(e);
            }
        }
    }

    /// Writes the merged report to `w`.
    pub fn finish(mut self, w: &mut dyn Write) -> Result<MergeSummary, MergeError> {
        if self.reports == 0 {
            return Err(MergeError::NoReports);
        }
        let mut stats = std::mem::take(&mut self.stats);
        stats.findings = self.seen.len() as u64;
        stats.credentials = self.credentials.len() as u64;
        stats.commits = self.commits;
        stats.complete = self.all_complete && stats.incomplete == 0;
        // Stable: errors of one input keep their order.
        self.errors
            .sort_by(|a, b| (&a.repository, &a.path).cmp(&(&b.repository, &b.path)));
        self.spool
            .finish(w, &stats, &self.errors)
            .map_err(MergeError::Write)?;
        Ok(MergeSummary {
            reports: self.reports,
            duplicates: self.duplicates,
            stats,
            errors: self.errors.len(),
        })
    }
}

/// What makes two findings the same finding: fingerprint (rule, secret, path) and where
/// exactly — repository, commit, position (a secret can sit twice in one file, and one path
/// holds it in many commits).
fn identity(f: &Finding) -> u128 {
    let mut h = Sha256::new();
    let commit = f.git.as_ref().map_or("", |g| g.commit.as_str());
    let position = format!("{}:{}:{}", f.line, f.column, f.byte_offset);
    for part in [
        f.fingerprint.as_str(),
        f.repository.as_deref().unwrap_or(""),
        f.path.as_str(),
        commit,
        position.as_str(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    first_128(&h.finalize())
}

/// 16 bytes per credential id (32 hex digits); any other form by its hash.
fn credential(id: &str) -> u128 {
    u128::from_str_radix(id, 16).unwrap_or_else(|_| first_128(&Sha256::digest(id.as_bytes())))
}

fn first_128(bytes: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    b.copy_from_slice(&bytes[..16]);
    u128::from_be_bytes(b)
}

/// A report's parts other than its findings.
#[derive(Default)]
struct Head {
    version: Option<String>,
    tool: Option<Tool>,
    config_digest: Option<String>,
    stats: RunStats,
    errors: Vec<ScanError>,
    has_stats: bool,
    has_findings: bool,
}

type Take<'a> = Option<&'a mut dyn FnMut(Finding)>;

/// Reads one report into `head`, handing each finding to `take` (or only checking it).
fn parse(
    name: &str,
    r: Box<dyn Read + '_>,
    head: &mut Head,
    take: Take<'_>,
) -> Result<(), MergeError> {
    let fail = |source| MergeError::Parse {
        report: name.to_owned(),
        source,
    };
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, r));
    Document { head, take }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(fail)?;
    let missing = if !head.has_findings {
        "findings"
    } else if !head.has_stats {
        "stats"
    } else {
        return Ok(());
    };
    Err(fail(de::Error::custom(format!("no `{missing}`"))))
}

/// The top-level object of a JSON report.
struct Document<'h, 't> {
    head: &'h mut Head,
    take: Take<'t>,
}

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with version, tool, config_digest, findings, stats, errors")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => {
                    let v: serde_json::Value = map.next_value()?;
                    self.head.version =
                        Some(v.as_str().map_or_else(|| v.to_string(), str::to_owned));
                }
                "tool" => self.head.tool = Some(map.next_value()?),
                "config_digest" => self.head.config_digest = Some(map.next_value()?),
                "stats" => {
                    self.head.stats = map.next_value()?;
                    self.head.has_stats = true;
                }
                "errors" => self.head.errors = map.next_value()?,
                "findings" => {
                    if self.head.has_findings {
                        return Err(de::Error::duplicate_field("findings"));
                    }
                    map.next_value_seed(Findings(self.take.take()))?;
                    self.head.has_findings = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The `findings` array, read one finding at a time.
struct Findings<'a>(Option<&'a mut dyn FnMut(Finding)>);

impl<'de> DeserializeSeed<'de> for Findings<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Findings<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(f) = seq.next_element::<Finding>()? {
            if let Some(take) = self.0.as_deref_mut() {
                take(f);
            }
        }
        Ok(())
    }
}
