//! leakscan.toml and gitleaks TOML parsing and compilation; a configuration that compiles
//! must also scan.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scanner_core::config::Config;
use scanner_core::{Origin, Scanner};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for name in ["leakscan.toml", "gitleaks.toml"] {
        if let Ok(cfg) = Config::parse(text, Path::new(name)) {
            if let Ok(s) = Scanner::builder().config(cfg).build() {
                let _ = s.scan_bytes(b"api_key = 'AKIA0123456789ABCDEF' token: x", &Origin::path("a.env"));
            }
        }
    }
});
