fn main() -> std::process::ExitCode {
    scanner_cli::main_entry()
}
