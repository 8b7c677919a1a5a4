//! Prints the real-world corpus table (README "Real-world corpus") and what differs from the
//! expectations: `cargo run -p scanner-core --example corpus_report`.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/corpus_support/mod.rs"]
mod corpus_support;

fn main() {
    let (rows, failures) = corpus_support::run();
    print!("{}", corpus_support::table(&rows));
    for f in &failures {
        eprintln!("{f}");
    }
    std::process::exit(i32::from(!failures.is_empty()));
}
