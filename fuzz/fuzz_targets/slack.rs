//! Slack export parsing: the input is one channel's day file in an export directory with
//! real users.json / channels.json beside it.
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
    let dir = DIR.get_or_init(|| {
        let d = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
        std::fs::write(
            d.path().join("users.json"),
            r#"[{"id":"U024BE7LH","name":"ops","real_name":"Ops"}]"#,
        )
        .unwrap();
        std::fs::write(
            d.path().join("channels.json"),
            r#"[{"id":"C024BE91L","name":"ops","created":1700000000}]"#,
        )
        .unwrap();
        std::fs::create_dir(d.path().join("ops")).unwrap();
        d
    });
    std::fs::write(dir.path().join("ops/2024-03-05.json"), data).unwrap();
    let opts = ScanOptions {
        threads: 1,
        ..ScanOptions::default()
    };
    scan_paths(&[dir.path().to_path_buf()], s, &opts, &common::Checked).unwrap();
});
