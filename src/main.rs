//! Thin installer entry point: `cargo install --path .` builds this; see `crates/scanner-cli`.
fn main() -> std::process::ExitCode {
    scanner_cli::main_entry()
}
