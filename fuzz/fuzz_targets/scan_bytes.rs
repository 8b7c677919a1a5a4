//! The whole detection pipeline on arbitrary bytes: prefilter, every rule, nested decoding.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use scanner_core::{Origin, Scanner};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    let s = SCANNER.get_or_init(Scanner::new);
    for f in s.scan_bytes(data, &Origin::path("fuzz.txt")) {
        common::check(&f, Some(data.len()));
    }
});
