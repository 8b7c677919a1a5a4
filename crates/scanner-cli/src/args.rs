//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Finds leaked Kubernetes credentials (service-account tokens, kubeconfig secrets,
/// bootstrap tokens, registry credentials, private keys) in files, archives and git history.
#[derive(Debug, Parser)]
#[command(name = "leakscan", version = VERSION, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The version and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("LEAKSCAN_COMMIT"),
    ")"
);

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, directories, archives; "-" reads standard input.
    Scan(ScanArgs),
    /// Scan git history: every blob reachable from every ref, once.
    Git(GitArgs),
    /// Accept today's findings: write their fingerprints to a baseline file.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Was it used? Find a report's credentials in Kubernetes audit logs: when, from where,
    /// doing what, and whether after they leaked (exit 1 if so).
    Audit(AuditArgs),
    /// Join JSON reports (the shards of a fleet scan) into one report: findings kept once,
    /// credentials grouped across repositories, stats summed, every error kept.
    Merge(MergeArgs),
    /// List the built-in rules (and a configuration's custom rules).
    Rules(RulesArgs),
    /// Print the version and the commit it was built from.
    Version,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `leakscan man > /usr/local/share/man/man1/leakscan.1`.
    Man,
}

/// `leakscan scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan ("-" for standard input).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Skip files that .gitignore, .ignore, .git/info/exclude or git's global excludes
    /// exclude (by default they are scanned: an ignored .env is still a token on disk). Each
    /// entry left out is counted as `ignored` (a directory once); -v lists them.
    #[arg(long)]
    pub respect_gitignore: bool,
    /// Skip hidden files and directories (by default they are scanned: .kube/config, .env,
    /// .bash_history); each is counted as `hidden` (a directory once), -v lists them. .git,
    /// .hg and .svn are never walked nor counted; use `leakscan git` for history.
    #[arg(long)]
    pub skip_hidden: bool,
    /// Accepted for compatibility: ignored files are scanned by default.
    #[arg(long, hide = true)]
    pub no_ignore: bool,
    /// Accepted for compatibility: hidden files are scanned by default.
    #[arg(long, hide = true)]
    pub hidden: bool,
    /// Skip paths matching this glob (gitignore syntax, repeatable); counted as `excluded`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Skip files larger than this many bytes (suffixes K, M, G allowed).
    #[arg(long, value_name = "SIZE", default_value = "10G", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Read big files instead of memory-mapping them: slower, but a file truncated by another
    /// process during the scan cannot crash leakscan (SIGBUS), e.g. logs being rotated.
    #[arg(long)]
    pub no_mmap: bool,
    /// Maximum depth of nested archives to open (0 disables archive scanning).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub archive_depth: usize,
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `leakscan baseline ...`.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan like `leakscan scan` (or `leakscan git` with --git) and write the findings'
    /// fingerprints to --output (default .leakscan-baseline.json); later runs with
    /// `--baseline FILE` report only new findings.
    Create(BaselineCreateArgs),
}

/// `leakscan baseline create`.
#[derive(Debug, Args)]
pub struct BaselineCreateArgs {
    /// Scan the git history of the repository given as the path instead of files.
    #[arg(long)]
    pub git: bool,
    /// What to scan, with the options of `leakscan scan`.
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// `leakscan rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Configuration file whose custom rules and overrides to list.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Scan every built-in detector's examples (real contexts and look-alikes) and report
    /// any whose findings differ from what it expects; exits 2 if one does.
    #[arg(long, conflicts_with = "config")]
    pub check: bool,
}

/// `leakscan git`.
#[derive(Debug, Args)]
pub struct GitArgs {
    /// Repositories, scanned one after another: work trees, bare git directories or clone
    /// URLs (https://, http://, ssh://, git://, file://, user@host:path), cloned bare into
    /// a temporary directory and removed once scanned; git finds the credentials (helpers,
    /// GIT_ASKPASS, SSH agent) and never prompts. One that cannot be scanned is reported
    /// (repository-error) and the others go on [default: ., unless --repos is given].
    #[arg(value_name = "REPO")]
    pub repos: Vec<PathBuf>,
    /// More repositories, one path or URL a line (blank lines and `#` comments skipped).
    #[arg(long = "repos", value_name = "FILE", conflicts_with = "staged")]
    pub repos_file: Option<PathBuf>,
    /// Scan only this shard of the repositories: `I/N` (0 <= I < N) by a stable hash of each
    /// repository as written, or `k8s-job/N` to take I from JOB_COMPLETION_INDEX (a
    /// Kubernetes Indexed Job).
    #[arg(long, value_name = "I/N", conflicts_with = "staged")]
    pub shard: Option<String>,
    /// Only commits in this range, e.g. origin/main..HEAD (the pull-request case).
    #[arg(long, value_name = "BASE..HEAD", conflicts_with = "staged")]
    pub range: Option<String>,
    /// Only commits after this one (same as --range COMMIT..HEAD).
    #[arg(long, value_name = "COMMIT", conflicts_with_all = ["staged", "range"])]
    pub since_commit: Option<String>,
    /// Only what is staged in the index (pre-commit).
    #[arg(long)]
    pub staged: bool,
    /// Only commits reachable from this ref (repeatable); default: every ref.
    #[arg(long, value_name = "REF")]
    pub branch: Vec<String>,
    /// Skip blobs larger than this many bytes, reported as too-large (suffixes K, M, G).
    #[arg(long, value_name = "SIZE", default_value = "10G", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Maximum depth of nested archives to open in committed blobs (0: archives are not
    /// opened).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub archive_depth: usize,
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `leakscan merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports (`leakscan scan|git --format json`) of the same leakscan version and
    /// configuration.
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,
    /// Report format [default: text on a terminal, json otherwise].
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<FormatArg>,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Keep the secrets of reports made with --show-secrets (redacted reports stay
    /// redacted: merge never has a secret they left out).
    #[arg(long)]
    pub show_secrets: bool,
    /// Exit code when the merged report has findings.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub exit_code: u8,
    /// Exit 3 when it has none but a shard could not read everything.
    #[arg(long)]
    pub fail_on_incomplete: bool,
    /// Print nothing but the report (no summary on stderr).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Colour in text output: auto, always or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: ColorArg,
}

/// `leakscan audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A leakscan report: `leakscan scan|git --format json` (or jsonl) output.
    #[arg(value_name = "REPORT")]
    pub report: PathBuf,
    /// Kubernetes audit logs: audit.k8s.io/v1 Event JSON lines, plain or gzip (told by
    /// content, not name); "-" reads standard input.
    #[arg(value_name = "AUDIT_LOG", required = true)]
    pub logs: Vec<PathBuf>,
    /// Report format [default: text on a terminal, json otherwise].
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<AuditFormatArg>,
    /// When the credentials leaked (RFC 3339), for findings without a commit date; for
    /// history findings the earlier of this and the commit date counts.
    #[arg(long, value_name = "RFC3339")]
    pub leaked_at: Option<String>,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Requests listed per kind and credential (uses after the leak, Secrets read ...);
    /// the rest are counted.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub list_limit: usize,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Print nothing but the report (no summary on stderr).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Colour in text output: auto, always or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: ColorArg,
}

/// Formats of `leakscan audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormatArg {
    /// For people: one block per credential, most alarming first.
    Text,
    /// One JSON document.
    Json,
    /// SARIF 2.1.0: one result per credential, at the place it leaked.
    Sarif,
    /// One self-contained HTML page, to mail with the scan's HTML report.
    Html,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// For people: grouped by credential.
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per finding per line, streamed.
    Jsonl,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// One self-contained HTML page to mail to a cluster's owners.
    Html,
}

/// Options every scanning command takes.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Report format [default: text on a terminal, json otherwise].
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<FormatArg>,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets unredacted.
    #[arg(long)]
    pub show_secrets: bool,
    /// Configuration file (leakscan.toml or gitleaks TOML) [default: leakscan.toml at the
    /// scan root or the repository root].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Suppress findings whose fingerprint is listed in FILE.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Exit code when findings remain.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub exit_code: u8,
    /// Exit 3 when nothing was found but something could not be read in full (a corrupt
    /// archive or object, an encrypted member, a zip bomb, a file over the size limit ...).
    #[arg(long)]
    pub fail_on_incomplete: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Only report findings at or above this severity.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub min_severity: scanner_core::Severity,
    /// Treat this RFC 3339 time as "now" for expiry (reproducible runs).
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Verify JWT signatures with the keys of this JWKS file (the JSON the API server serves
    /// at /openid/v1/jwks); repeatable. Offline: no request is made.
    #[arg(long, value_name = "FILE")]
    pub jwks: Vec<PathBuf>,
    /// Verify JWT signatures with this PEM public key or certificate (e.g. the cluster's
    /// sa.pub); repeatable.
    #[arg(long, value_name = "FILE")]
    pub public_key: Vec<PathBuf>,
    /// Ask the API server whether each Kubernetes token works (SelfSubjectReview) and, for a
    /// live one, what it may do (SelfSubjectRulesReview in its namespace and kube-system).
    /// Applies to service-account, kubeconfig and bootstrap tokens only. The server is the
    /// kubeconfig's own `server` or an --api-server; nothing else is ever contacted.
    #[arg(long)]
    pub verify_live: bool,
    /// API server to ask about tokens not found in a kubeconfig (repeatable; https only).
    #[arg(long, value_name = "URL", requires = "verify_live")]
    pub api_server: Vec<String>,
    /// CA certificate (PEM) to trust for the API server, e.g. the cluster's ca.crt
    /// (repeatable; default: the public web PKI roots).
    #[arg(long, value_name = "FILE", requires = "verify_live")]
    pub ca_cert: Vec<PathBuf>,
    /// Most HTTP requests --verify-live may make in one run.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub live_budget: usize,
    /// Connect and request timeout of --verify-live, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub live_timeout: f64,
    /// Print nothing but the report (no progress, no summary).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print each skipped input and warning to stderr.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Colour in text output: auto (a terminal, unless NO_COLOR is set or TERM=dumb),
    /// always or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: ColorArg,
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// On a terminal, unless NO_COLOR is set (non-empty) or TERM is dumb.
    Auto,
    /// Always, even into a file or pipe.
    Always,
    /// Never.
    Never,
}

/// Parses `123`, `10K`, `5M`, `2G` (binary multiples).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("unknown size suffix in {s:?} (use K, M, G or T)")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    num.trim()
        .parse::<u64>()
        .map(|n| n.saturating_mul(mult))
        .map_err(|_| format!("invalid size {s:?}"))
}
