//! Archive and compressed members (zip, tar, gzip, nested), UTF-16 and binary sniffing: the
//! input is written to a file and scanned as a file tree would be.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use scanner_core::source::fs::{scan_paths, ScanOptions};
use scanner_core::Scanner;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let s = SCANNER.get_or_init(Scanner::new);
    let dir = DIR.get_or_init(|| tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap());
    let path = dir.path().join("input.bin");
    std::fs::write(&path, data).unwrap();
    let opts = ScanOptions {
        threads: 1,
        ..ScanOptions::default()
    };
    scan_paths(&[path], s, &opts, &common::Checked).unwrap();
});
