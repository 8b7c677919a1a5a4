//! Embedding `scanner_core`: build one scanner, share it across threads, scan files.
//!
//! `cargo run -p scanner-core --example embed -- testdata/kubeconfig/admin.kubeconfig`

use std::sync::Arc;
use std::thread;

use scanner_core::{Finding, Origin, Scanner};

fn describe(f: &Finding) -> String {
    let who = f
        .token
        .as_ref()
        .map(|t| {
            format!(
                " {}/{}",
                t.namespace.as_deref().unwrap_or("-"),
                t.service_account.as_deref().unwrap_or("-")
            )
        })
        .unwrap_or_default();
    format!(
        "{}:{}:{} {} [{}]{} {}",
        f.path, f.line, f.column, f.rule_id, f.severity, who, f.secret
    )
}

fn main() {
    // Built once: the rules compile in well under a millisecond, and the scanner is Send + Sync.
    let scanner = Arc::new(Scanner::new());
    let handles: Vec<_> = std::env::args()
        .skip(1)
        .map(|path| {
            let scanner = Arc::clone(&scanner);
            thread::spawn(move || match std::fs::read(&path) {
                Ok(bytes) => scanner.scan_bytes(&bytes, &Origin::path(path.as_str())),
                Err(e) => {
                    eprintln!("{path}: {e}");
                    Vec::new()
                }
            })
        })
        .collect();
    for h in handles {
        for f in h.join().unwrap_or_default() {
            println!("{}", describe(&f));
        }
    }
}
