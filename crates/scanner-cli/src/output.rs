//! Where findings go: filtering, streaming (JSONL), rendering, atomic `--output`, the
//! summary on stderr, and the exit code.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};
use scanner_core::baseline::Baseline;
use scanner_core::config::Config;
use scanner_core::report::{self, ConfigDigest, Format, ReportOptions, RunStats, ScanError, Spool};
use scanner_core::{Class, Finding, Problem, Scanner, Severity};

use crate::args::{ColorArg, CommonArgs, FormatArg};
use crate::dest::Dest;

/// Environment variable whose value keys fingerprints (HMAC), so reports and baselines give
/// nothing to anyone without it.
pub const FINGERPRINT_KEY_VAR: &str = "LEAKSCAN_FINGERPRINT_KEY";

/// Builds the scanner the common options and the configuration file describe.
pub fn build_scanner(common: &CommonArgs, config: Option<Config>) -> Result<Scanner> {
    let mut b = Scanner::builder();
    if let Some(now) = &common.now {
        b = b.now_rfc3339(now).context("--now")?;
    }
    if let Some(config) = config {
        b = b.config(config);
    }
    if let Some(key) = std::env::var_os(FINGERPRINT_KEY_VAR) {
        let key = key.into_encoded_bytes();
        if key.len() < 16 {
            anyhow::bail!("{FINGERPRINT_KEY_VAR} must be at least 16 bytes (use a random value)");
        }
        b = b.fingerprint_key(&key);
    }
    if !common.jwks.is_empty() || !common.public_key.is_empty() {
        b = b.keys(crate::keys::load(common)?);
    }
    b.build().context("compiling rules")
}

/// The report's `config_digest`: what decides a run's findings, so that `leakscan merge`
/// joins only shards scanned alike — built-in rules, the `--config` file (a leakscan.toml
/// found in a scanned tree or repository belongs to what is scanned, not to the run), the
/// fingerprint key, and the options that change findings or their severity.
pub fn config_digest(common: &CommonArgs) -> Result<String> {
    let mut d = ConfigDigest::new();
    if let Some(path) = &common.config {
        let cfg =
            Config::load(path).with_context(|| format!("configuration {}", path.display()))?;
        d = d.config(&cfg);
    }
    if let Some(key) = std::env::var_os(FINGERPRINT_KEY_VAR) {
        d = d.fingerprint_key(&key.into_encoded_bytes());
    }
    // Files by their content: the same baseline or key on two machines is one.
    let file = |p: &std::path::Path| -> Result<String> {
        use sha2::{Digest, Sha256};
        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        Ok(format!("{:x}", Sha256::digest(bytes)))
    };
    d = d.option("min-severity", common.min_severity.as_str());
    if let Some(b) = &common.baseline {
        d = d.option("baseline", &file(b)?);
    }
    for k in common.jwks.iter().chain(&common.public_key) {
        d = d.option("key", &file(k)?);
    }
    if let Some(now) = &common.now {
        d = d.option("now", now);
    }
    if common.verify_live {
        d = d.option("verify-live", &common.api_server.join(" "));
    }
    Ok(d.finish())
}

/// The report format: explicit, else text on a terminal and JSON otherwise.
pub fn format(common: &CommonArgs) -> Format {
    match common.format {
        Some(FormatArg::Text) => Format::Text,
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Jsonl) => Format::Jsonl,
        Some(FormatArg::Sarif) => Format::Sarif,
        Some(FormatArg::Html) => Format::Html,
        None if common.output.is_none() && io::stdout().is_terminal() => Format::Text,
        None => Format::Json,
    }
}

struct Inner {
    /// The reader of standard output went away (`| head`): nothing more is written, and
    /// that is not an error.
    closed: bool,
    /// `--verify-live`: findings held back until the API server has answered.
    held: Vec<Finding>,
    /// Findings kept for the report, rendered and on disk (none for JSONL).
    spool: Option<Spool>,
    /// `leakscan baseline create`: the fingerprints to write.
    accepted: Option<Baseline>,
    /// Findings reported (streamed, spooled or accepted).
    reported: u64,
    /// The distinct credentials among them.
    credentials: std::collections::HashSet<u128>,
    errors: Vec<ScanError>,
    /// Every problem reported, by kind (also those not kept in `errors`).
    by_kind: std::collections::BTreeMap<Problem, u64>,
    dest: Dest,
    suppressed: u64,
}

/// Thread-safe collector of findings and errors for one run.
pub struct Reporter {
    opts: ReportOptions,
    min_severity: Severity,
    exit_code: u8,
    fail_on_incomplete: bool,
    quiet: bool,
    verbose: bool,
    started: Instant,
    /// Findings accepted by `--baseline`: counted as suppressed, not reported.
    baseline: Option<Baseline>,
    /// `leakscan baseline create`: write a baseline instead of a report.
    creates_baseline: bool,
    inner: Mutex<Inner>,
    /// `--verify-live`: findings are held back (not filtered, not streamed) until the API
    /// server has answered, so severity filters see the final severity.
    live: Option<crate::live::Settings>,
}

/// Where `leakscan baseline create` writes when `--output` is not given.
pub const DEFAULT_BASELINE: &str = ".leakscan-baseline.json";

impl Reporter {
    /// Sets up output per the common options (creates the temp file for `--output`).
    pub fn new(common: &CommonArgs) -> Result<Reporter> {
        let live = crate::live::Settings::from_args(common)?;
        let format = format(common);
        let baseline = match &common.baseline {
            None => None,
            Some(path) => Some(
                Baseline::load(path).with_context(|| format!("--baseline {}", path.display()))?,
            ),
        };
        let dest = Dest::open(common.output.as_deref(), common.show_secrets)?;
        let color = format == Format::Text && use_color(common);
        let opts = ReportOptions {
            show_secrets: common.show_secrets,
            color,
        };
        Ok(Reporter {
            opts,
            min_severity: common.min_severity,
            exit_code: common.exit_code,
            fail_on_incomplete: common.fail_on_incomplete,
            quiet: common.quiet,
            verbose: common.verbose,
            started: Instant::now(),
            baseline,
            creates_baseline: false,
            inner: Mutex::new(Inner {
                closed: false,
                held: Vec::new(),
                spool: match format {
                    Format::Jsonl => None,
                    _ => {
                        let mut spool =
                            Spool::new(format, opts).context("creating the report spool")?;
                        spool.set_config_digest(config_digest(common)?);
                        Some(spool)
                    }
                },
                accepted: None,
                reported: 0,
                credentials: Default::default(),
                errors: Vec::new(),
                by_kind: Default::default(),
                dest,
                suppressed: 0,
            }),
            live,
        })
    }

    /// Sets up `leakscan baseline create`: findings go into a baseline file (`--output`, by
    /// default [`DEFAULT_BASELINE`]) and the run succeeds whatever it finds.
    pub fn for_baseline(common: &CommonArgs) -> Result<Reporter> {
        let mut common = common.clone();
        common.baseline = None;
        common.format = Some(FormatArg::Json);
        common
            .output
            .get_or_insert_with(|| PathBuf::from(DEFAULT_BASELINE));
        let mut r = Reporter::new(&common)?;
        r.creates_baseline = true;
        let inner = r.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        inner.spool = None;
        inner.accepted = Some(Baseline::default());
        Ok(r)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panicking worker must not take the findings of the others with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one finding: filters it, streams it (JSONL) or keeps it for the report.
    pub fn finding(&self, f: Finding) {
        // Accepted findings are dropped first: they are not worth a live check either.
        if self.baseline.as_ref().is_some_and(|b| b.contains(&f)) {
            self.lock().suppressed += 1;
            return;
        }
        if self.live.is_some() {
            self.lock().held.push(f);
            return;
        }
        if f.severity < self.min_severity {
            self.lock().suppressed += 1;
            return;
        }
        Self::report(&self.opts, &mut self.lock(), &f);
    }

    /// Hands a finding that passed the filters to its output: the JSONL stream, the
    /// baseline, or the report spool. Nothing is kept in memory but its sort key.
    fn report(opts: &ReportOptions, inner: &mut Inner, f: &Finding) {
        inner.reported += 1;
        // 16 bytes per credential, not its hex id: a million distinct tokens stay small.
        if let Ok(id) = u128::from_str_radix(&f.credential_id, 16) {
            inner.credentials.insert(id);
        }
        if let Some(b) = &mut inner.accepted {
            return b.insert(f);
        }
        if let Some(spool) = &mut inner.spool {
            if let Err(e) = spool.push(f) {
                eprintln!("leakscan: warning: keeping a finding for the report: {e}");
            }
            return;
        }
        if inner.closed {
            return;
        }
        let mut w = inner.dest.writer();
        let written = report::write_jsonl_finding(&mut *w, f, opts).and_then(|_| w.flush());
        drop(w);
        match written {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => inner.closed = true,
            Err(e) => eprintln!("leakscan: warning: writing a finding: {e}"),
            Ok(()) => {}
        }
    }

    /// Counts findings the scanner dropped because the user allowed them.
    pub fn suppressed(&self, n: u64) {
        self.lock().suppressed += n;
    }

    /// The report is of several repositories: text and HTML locations name theirs.
    pub fn name_repositories(&self) {
        if let Some(s) = &mut self.lock().spool {
            s.name_repositories();
        }
    }

    /// Records an input that could not be (fully) scanned; the scan goes on.
    pub fn error(&self, path: impl Into<String>, kind: Problem, message: impl Into<String>) {
        self.error_in(None, path, kind, message);
    }

    /// An input of `repository` (a multi-repository git scan) that could not be scanned.
    pub fn error_in(
        &self,
        repository: Option<&str>,
        path: impl Into<String>,
        kind: Problem,
        message: impl Into<String>,
    ) {
        let e = ScanError {
            path: path.into(),
            kind,
            message: message.into(),
            repository: repository.map(str::to_owned),
        };
        // Media are expected in any tree (a checkout can hold thousands), and what
        // --skip-hidden, --respect-gitignore and --exclude leave out was asked for: they are
        // counted in stats.skipped_by_reason, and listed one by one only with -v.
        let routine = matches!(
            kind,
            Problem::Media | Problem::Hidden | Problem::Ignored | Problem::Excluded
        );
        if self.verbose || !self.quiet && !routine {
            eprintln!(
                "leakscan: warning: {}: {} ({})",
                report::terminal_safe(&e.location()),
                report::terminal_safe(&e.message),
                e.kind
            );
        }
        let mut inner = self.lock();
        *inner.by_kind.entry(kind).or_default() += 1;
        if self.verbose || !routine {
            inner.errors.push(e);
        }
    }

    /// Renders the report, prints the summary and returns the exit code.
    pub fn finish(self, mut stats: RunStats) -> Result<u8> {
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut inner = self.inner.into_inner().unwrap_or_else(|e| e.into_inner());
        if let Some(live) = &self.live {
            let mut held = std::mem::take(&mut inner.held);
            crate::live::verify(&mut held, live, self.quiet)?;
            for f in held {
                if f.severity >= self.min_severity {
                    Self::report(&self.opts, &mut inner, &f);
                } else {
                    inner.suppressed += 1;
                }
            }
        }
        let Inner {
            closed,
            mut errors,
            by_kind,
            mut dest,
            suppressed,
            spool,
            accepted,
            reported,
            credentials,
            ..
        } = inner;
        errors.sort_by(|a, b| (&a.repository, &a.path).cmp(&(&b.repository, &b.path)));
        stats.elapsed_secs = elapsed;
        stats.findings = reported;
        stats.credentials = credentials.len() as u64;
        stats.suppressed += suppressed;
        count_problems(&mut stats, &by_kind);
        let n = reported as usize;
        if !closed {
            let mut w = io::BufWriter::with_capacity(1 << 16, dest.writer());
            match (accepted, spool) {
                (Some(b), _) => b.write(&mut w),
                (None, Some(spool)) => spool.finish(&mut w, &stats, &errors),
                (None, None) => Ok(()),
            }
            .and_then(|_| w.flush())
            .or_else(|e| match e.kind() {
                // `leakscan ... | head`: the reader has what it wanted.
                io::ErrorKind::BrokenPipe => Ok(()),
                _ => Err(e),
            })
            .context("writing the report")?;
        }
        dest.commit()?;
        if !self.quiet {
            print_summary(&stats, self.fail_on_incomplete);
        }
        if self.creates_baseline {
            if !self.quiet {
                eprintln!(
                    "leakscan: baseline of {} written",
                    plural(n as u64, "finding")
                );
            }
            return Ok(0);
        }
        Ok(if n > 0 {
            self.exit_code
        } else if self.fail_on_incomplete && !stats.complete {
            EXIT_INCOMPLETE
        } else {
            0
        })
    }
}

/// Refuses an `--output` that is one of the files to scan: the report would replace the
/// evidence (leakscan never writes into what it scans).
pub fn refuse_output_onto_input(common: &CommonArgs, inputs: &[PathBuf]) -> Result<()> {
    refuse_overwrite(common.output.as_deref(), inputs)
}

/// Refuses an output file that is one of `inputs` (the same file, by device and inode).
pub fn refuse_overwrite(output: Option<&std::path::Path>, inputs: &[PathBuf]) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Some(out) = output else {
            return Ok(());
        };
        let Ok(o) = std::fs::metadata(out) else {
            return Ok(());
        };
        if !o.is_file() {
            return Ok(());
        }
        for input in inputs {
            if std::fs::metadata(input).is_ok_and(|i| i.dev() == o.dev() && i.ino() == o.ino()) {
                anyhow::bail!(
                    "--output {} is also an input: refusing to overwrite what is being scanned",
                    out.display()
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (output, inputs);
    Ok(())
}

/// Whether text output is coloured: `--color`, else a terminal without NO_COLOR or TERM=dumb.
fn use_color(common: &CommonArgs) -> bool {
    color_wanted(common.color, common.output.is_none())
}

/// Whether to colour text: `--color`, else a terminal standard output (when the report
/// goes there) without NO_COLOR or TERM=dumb.
pub fn color_wanted(when: ColorArg, to_stdout: bool) -> bool {
    match when {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            to_stdout
                && io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// Exit code of `--fail-on-incomplete` when nothing was found but something could not be read.
pub const EXIT_INCOMPLETE: u8 = 3;

/// Fills the skip and incomplete counters from every problem reported.
fn count_problems(stats: &mut RunStats, by_kind: &std::collections::BTreeMap<Problem, u64>) {
    for (kind, &n) in by_kind {
        match kind.class() {
            Class::Skipped => stats.skipped += n,
            Class::Incomplete => stats.incomplete += n,
            _ => continue,
        }
        *stats
            .skipped_by_reason
            .entry(kind.as_str().to_owned())
            .or_default() += n;
    }
    stats.complete = stats.incomplete == 0;
}

/// `1 file`, `2 files`.
fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The summary on stderr: totals, then what was not read and why.
fn print_summary(s: &RunStats, fail_on_incomplete: bool) {
    let what = if s.commits.is_some() { "blob" } else { "file" };
    eprintln!(
        "leakscan: {}, {:.1} MB in {:.2}s ({:.0} MB/s); {} ({}), {} suppressed, {} skipped",
        plural(s.files, what),
        s.bytes as f64 / 1e6,
        s.elapsed_secs,
        s.mb_per_sec(),
        plural(s.findings, "finding"),
        plural(s.credentials, "credential"),
        s.suppressed,
        s.skipped,
    );
    let reasons = |class: Class| -> Vec<String> {
        s.skipped_by_reason
            .iter()
            .filter(|(k, _)| Problem::from_name(k).is_some_and(|p| p.class() == class))
            .map(|(k, n)| format!("{n} {k}"))
            .collect()
    };
    let skipped = reasons(Class::Skipped);
    if !skipped.is_empty() {
        eprintln!("leakscan: skipped on purpose: {}", skipped.join(", "));
    }
    if !s.complete {
        eprintln!(
            "leakscan: INCOMPLETE: {} could not be read in full ({}); a credential may hide there{}",
            plural(s.incomplete, "input"),
            reasons(Class::Incomplete).join(", "),
            if fail_on_incomplete {
                ""
            } else {
                " (--fail-on-incomplete makes this exit 3)"
            }
        );
    }
}
