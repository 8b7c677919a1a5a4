//! The JWT structure check and the claims classifier: the input is split into a header and
//! a payload (at the first 0xFF), each base64url-encoded into a token with a signature of
//! plausible length, then scanned bare, in a kubeconfig and base64-encoded again.
#![no_main]

#[path = "common.rs"]
mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use scanner_core::{Origin, Scanner};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    let s = SCANNER.get_or_init(|| Scanner::builder().now(1_700_000_000).build().unwrap());
    let (header, payload) = match data.iter().position(|&b| b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let sig_len = payload.len() % 3 * 32 + 64;
    let token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(vec![7u8; sig_len])
    );
    let inputs = [
        token.clone(),
        format!("users:\n- name: u\n  user:\n    token: {token}\n"),
        format!("data:\n  token: {}\n", STANDARD.encode(&token)),
    ];
    for input in inputs {
        for f in s.scan_bytes(input.as_bytes(), &Origin::path("fuzz.yaml")) {
            common::check(&f, Some(input.len()));
        }
    }
});
