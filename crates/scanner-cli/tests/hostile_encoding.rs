//! Files that lie about their encoding: a UTF-16 byte-order mark in front of ASCII must not
//! hide the tokens in it, and real UTF-16 files (as Windows tools write them: BOM, CRLF)
//! are still transcoded and found at the right line and column.

mod support_cli;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);
const KUBECONFIG: &str =
    "users:\r\n- name: ops\r\n  user:\r\n    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c\r\n";

fn scan(dir: &Path, args: &[&str]) -> (i32, Value) {
    support_cli::scan_json(dir, args, LIMIT)
}

/// (rule, path, line, column, first decoding step) of every finding, sorted by path.
fn findings(doc: &Value) -> Vec<(String, String, u64, u64, Option<String>)> {
    let mut f: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["decoded_from"]
                    .as_array()
                    .and_then(|d| d.first())
                    .and_then(|s| s.as_str())
                    .map(str::to_owned),
            )
        })
        .collect();
    f.sort();
    f
}

fn utf16(bom: &[u8], text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = bom.to_vec();
    for u in text.encode_utf16() {
        out.extend(if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn regression_ff_fe_in_front_of_ascii_does_not_hide_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let mut lying = b"\xff\xfe".to_vec();
    lying.extend_from_slice(KUBECONFIG.as_bytes());
    std::fs::write(dir.path().join("ff-fe.kubeconfig"), &lying).unwrap();
    let mut lying_be = b"\xfe\xff".to_vec();
    lying_be.extend_from_slice(KUBECONFIG.as_bytes());
    std::fs::write(dir.path().join("fe-ff.kubeconfig"), &lying_be).unwrap();
    // A big one too: streamed, not held in memory (8 MiB in-memory limit).
    let mut big = b"\xff\xfe".to_vec();
    for i in 0..400_000 {
        big.extend_from_slice(format!("# padding line {i:07}\r\n").as_bytes());
    }
    big.extend_from_slice(KUBECONFIG.as_bytes());
    assert!(big.len() > 9 << 20);
    std::fs::write(dir.path().join("big.kubeconfig"), &big).unwrap();

    let (code, doc) = scan(dir.path(), &["."]);
    assert_eq!(code, 1, "{doc}");
    let kc = |p: &str, line| ("kubeconfig-token".to_owned(), p.to_owned(), line, 12, None);
    assert_eq!(
        findings(&doc),
        vec![
            kc("big.kubeconfig", 400_004),
            kc("fe-ff.kubeconfig", 4),
            kc("ff-fe.kubeconfig", 4)
        ]
    );
    assert_eq!(doc["errors"], Value::Array(vec![]));
}

#[test]
fn real_utf16_files_with_a_bom_are_still_found_at_their_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    // What PowerShell's `Out-File` (UTF-16LE) and `-Encoding BigEndianUnicode` write.
    std::fs::write(
        dir.path().join("le.kubeconfig"),
        utf16(b"\xff\xfe", KUBECONFIG, false),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("be.kubeconfig"),
        utf16(b"\xfe\xff", KUBECONFIG, true),
    )
    .unwrap();
    // Non-Latin comments before the token: fewer zero high bytes, still UTF-16.
    let jp = format!("# 本番クラスタの運用担当者用設定\r\n{KUBECONFIG}");
    std::fs::write(
        dir.path().join("jp.kubeconfig"),
        utf16(b"\xff\xfe", &jp, false),
    )
    .unwrap();

    let (code, doc) = scan(dir.path(), &["."]);
    assert_eq!(code, 1, "{doc}");
    let kc = |p: &str, line, step: &str| {
        (
            "kubeconfig-token".to_owned(),
            p.to_owned(),
            line,
            12,
            Some(step.to_owned()),
        )
    };
    assert_eq!(
        findings(&doc),
        vec![
            kc("be.kubeconfig", 4, "utf-16be"),
            kc("jp.kubeconfig", 5, "utf-16le"),
            kc("le.kubeconfig", 4, "utf-16le"),
        ]
    );
}
