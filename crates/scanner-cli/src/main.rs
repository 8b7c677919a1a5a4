/// glibc's per-thread arenas hold on to freed tree buffers of a history walk (see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    scanner_cli::main_entry()
}
