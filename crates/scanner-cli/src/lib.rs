//! The `leakscan` command line: argument parsing, progress, exit codes. Everything a
//! library user would also need lives in `scanner_core`.

mod args;
mod cmd_audit;
mod cmd_baseline;
mod cmd_git;
mod cmd_merge;
mod cmd_scan;
mod config;
mod dest;
mod fleet;
mod interrupt;
mod keys;
mod live;
mod output;
mod progress;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

pub use args::{Cli, Command};

/// Exit code for usage and fatal errors (SPEC: 0 clean, 1 findings, 2 error).
pub const EXIT_ERROR: u8 = 2;

/// Runs the CLI and maps the outcome to the SPEC's exit codes.
pub fn main_entry() -> ExitCode {
    interrupt::install();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(EXIT_ERROR),
            };
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("leakscan: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Scan(a) => cmd_scan::run(a),
        Command::Git(a) => cmd_git::run(a),
        Command::Baseline(args::BaselineCommand::Create(a)) => cmd_baseline::create(a),
        Command::Audit(a) => cmd_audit::run(a),
        Command::Merge(a) => cmd_merge::run(a),
        Command::Rules(a) if a.check => config::check_rules(),
        Command::Rules(a) => {
            let cfg = config::load(a.config.as_deref(), &[std::path::PathBuf::from(".")])?;
            config::print_rules(cfg.as_ref());
            Ok(0)
        }
        Command::Version => {
            println!("leakscan {}", args::VERSION);
            Ok(0)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "leakscan", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .context("writing the man page")?;
            Ok(0)
        }
    }
}
