//! base64, JSON-escape and percent decoders: every decoded byte maps back into the input,
//! in order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scanner_core::decode::{self, Decoded};

fn check(d: &Decoded, len: usize) {
    assert_eq!(d.bytes.len(), d.origin.len());
    assert!(d.origin.windows(2).all(|w| w[0] <= w[1]), "origin not monotone");
    assert!(d.origin.iter().all(|&o| (o as usize) < len), "origin outside input");
}

fuzz_target!(|data: &[u8]| {
    if let Some(d) = decode::decode_base64(data) {
        check(&d, data.len());
    }
    check(&decode::unescape_json(data), data.len());
    check(&decode::unescape_percent(data), data.len());
});
