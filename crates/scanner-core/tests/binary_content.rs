//! Binary content through the file-tree source: tokens framed by arbitrary bytes end where
//! they end, findings carry the `binary` step and their byte offset in every path (held,
//! mapped, read in chunks, archive members), huge newline-free data is no slower per
//! finding, and SARIF's byte regions are valid against the official schema.

mod common;
mod source_support;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use scanner_core::report::{self, Report, ReportOptions};
use scanner_core::source::fs::ScanOptions;
use scanner_core::BINARY_STEP;
use serde_json::Value;
use source_support::*;

fn write(root: &Path, rel: &str, data: &[u8]) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, data).unwrap();
    p
}

/// Runs `f` on its own thread and fails the test if it takes longer than `limit`.
fn bounded<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("scan still running after {limit:?}"))
}

fn token() -> String {
    common::legacy_token(
        "kube-system",
        "replicaset-controller",
        "replicaset-controller-token-x2k9d",
    )
}

#[test]
fn a_token_framed_by_binary_bytes_is_found_whole_at_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let tok = token();
    // Bytes that end a base64url run: NUL, protobuf tags and lengths, high bytes, DEL,
    // quote and '=' (padding is never part of a JWT).
    let frames: &[(&[u8], &[u8])] = &[
        (b"\0", b"\0"),
        (b"\x0a\x84\x07", b"\x12\x06"),
        (b"\xff\xfe", b"\x80\x81"),
        (b"\x01", b"\x7f"),
        (b"\x00\"", b"\"\x00"),
        (b"\x1a", b"="),
    ];
    let mut ats = Vec::new();
    for (i, (before, after)) in frames.iter().enumerate() {
        let mut data = vec![0u8; 100 + i];
        data.extend_from_slice(before);
        ats.push(data.len() as u64);
        data.extend_from_slice(tok.as_bytes());
        data.extend_from_slice(after);
        data.extend(vec![0u8; 50]);
        write(dir.path(), &format!("blob{i}.bin"), &data);
    }
    let out = scan(dir.path());
    assert_eq!(out.findings.len(), frames.len(), "{:?}", out.errors);
    for (i, &at) in ats.iter().enumerate() {
        let f = out.at(&label(dir.path(), &format!("blob{i}.bin")));
        assert_eq!(f.len(), 1, "blob{i}");
        let f = f[0];
        assert_eq!(f.rule_id, "k8s-sa-token-legacy");
        assert_eq!(f.secret.expose(), tok, "blob{i}: ends at the right byte");
        assert_eq!(f.byte_offset, at, "blob{i}");
        assert_eq!(f.decoded_from, vec![BINARY_STEP.to_owned()]);
        assert!(f.in_binary());
        let t = f.token.as_ref().unwrap();
        assert_eq!(t.namespace.as_deref(), Some("kube-system"));
        assert_eq!(t.service_account.as_deref(), Some("replicaset-controller"));
    }
}

#[test]
fn lines_in_binary_count_newline_bytes_like_grep_a() {
    let dir = tempfile::tempdir().unwrap();
    let tok = token();
    let mut data = b"\0\0\x0a\x7fELF\n\n\x00\x01".to_vec();
    data.extend_from_slice(b"\x12\x84\x07");
    data.extend_from_slice(tok.as_bytes());
    data.push(0);
    write(dir.path(), "dump.bin", &data);
    let out = scan(dir.path());
    let f = &out.findings[0];
    // Three \n bytes before the token (0x0a is \n): line 4, column counted from the last.
    assert_eq!((f.line, f.column), pos(&data, &tok));
    assert_eq!(f.line, 4);
}

#[test]
fn big_binary_files_agree_mapped_read_and_inside_archives() {
    let dir = tempfile::tempdir().unwrap();
    let tok = token();
    // 3 MiB of pseudo-random bytes (zeros would gzip past the zip-bomb ratio), with
    // windows, chunks and the in-memory limit at 1 MiB: tokens across their boundaries.
    let mut data = Vec::with_capacity(3 << 20);
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    while data.len() < 3 << 20 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        data.extend(rng.to_le_bytes());
    }
    data[0] = 0;
    let offsets = [(1 << 20) - 100, (2 << 20) - 7, (3 << 20) - tok.len() - 9, 5];
    // Each framed by NULs, as a string in memory is: a random base64url byte next to it
    // would be taken as part of it.
    for &o in &offsets {
        data[o - 1] = 0;
        data[o..o + tok.len()].copy_from_slice(tok.as_bytes());
        data[o + tok.len()] = 0;
    }
    write(dir.path(), "var/lib/etcd/member/snap/db", &data);
    let tar = tar(&[("var/lib/etcd/member/snap/db", &data)]);
    write(dir.path(), "etcd-backup.tar.gz", &gz(&tar));
    let mut want: Vec<u64> = offsets.iter().map(|&o| o as u64).collect();
    want.sort();
    for mmap in [true, false] {
        let opts = ScanOptions {
            mmap,
            threads: 2,
            window: 1 << 20,
            in_memory_limit: 1 << 20,
            ..ScanOptions::default()
        };
        let root = dir.path().to_path_buf();
        let out = bounded(Duration::from_secs(120), move || {
            let scanner = scanner_core::Scanner::builder()
                .now(NOW)
                .chunk_size(1 << 20)
                .build()
                .unwrap();
            scan_with(&scanner, &[root], &opts)
        });
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        for path in [
            "var/lib/etcd/member/snap/db",
            "etcd-backup.tar.gz!/var/lib/etcd/member/snap/db",
        ] {
            let found = out.at(&label(dir.path(), path));
            let mut got: Vec<u64> = found.iter().map(|f| f.byte_offset).collect();
            got.sort();
            assert_eq!(got, want, "{path} mmap={mmap}");
            for f in found {
                assert_eq!(f.decoded_from, vec![BINARY_STEP.to_owned()], "{path}");
                assert_eq!(f.secret.expose(), tok);
            }
        }
    }
}

#[test]
fn newline_free_binary_with_many_tokens_is_scanned_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let tok = token();
    // 48 MiB without a single \n (0x01 filler), a token every 256 KiB: per-finding work
    // that walked back to a line start would make this quadratic.
    let mut data = vec![1u8; 48 << 20];
    data[0] = 0;
    let offsets: Vec<usize> = (1..192).map(|k| k * (256 << 10)).collect();
    for &o in &offsets {
        data[o..o + tok.len()].copy_from_slice(tok.as_bytes());
    }
    write(dir.path(), "core.dump", &data);
    let root = dir.path().to_path_buf();
    let out = bounded(Duration::from_secs(120), move || {
        scan_with(&scanner(), &[root], &ScanOptions::default())
    });
    let got: Vec<u64> = out.findings.iter().map(|f| f.byte_offset).collect();
    let want: Vec<u64> = offsets.iter().map(|&o| o as u64).collect();
    assert_eq!(got, want);
    // One line: the column is the offset + 1.
    assert!(out
        .findings
        .iter()
        .all(|f| f.line == 1 && f.column as u64 == f.byte_offset + 1));
}

#[test]
fn sarif_byte_regions_are_valid_against_the_official_schema() {
    let Some(path) = common::thirdparty("sarif-schema-2.1.0.json") else {
        return;
    };
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("schema compiles");
    let dir = tempfile::tempdir().unwrap();
    let tok = token();
    let mut blob = b"k8s\0\n\x0c\n\x02v1\x12\x06Secret\x12\x84\x07".to_vec();
    let at = blob.len();
    blob.extend_from_slice(tok.as_bytes());
    blob.extend_from_slice(b"\x1a\0\"\0");
    write(dir.path(), "secret.pb", &blob);
    write(dir.path(), "env.sh", format!("TOKEN={tok}\n").as_bytes());
    let out = scan(dir.path());
    assert_eq!(out.findings.len(), 2);
    let report = Report {
        findings: out.findings,
        ..Report::default()
    };
    let mut buf = Vec::new();
    report::write_sarif(&mut buf, &report, &ReportOptions::default()).unwrap();
    let doc: Value = serde_json::from_slice(&buf).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let regions: Vec<(&str, Value)> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                loc["artifactLocation"]["uri"].as_str().unwrap(),
                loc["region"].clone(),
            )
        })
        .collect();
    let len = tok.len();
    assert!(regions.contains(&(
        "env.sh",
        serde_json::json!({"startLine": 1, "startColumn": 7, "endLine": 1, "endColumn": 7 + len})
    )));
    assert!(regions.contains(&(
        "secret.pb",
        serde_json::json!({"byteOffset": at, "byteLength": len})
    )));
    // A byte region without its offset is invalid: the check above can fail.
    let mut broken = doc.clone();
    for r in broken["runs"][0]["results"].as_array_mut().unwrap() {
        let region = &mut r["locations"][0]["physicalLocation"]["region"];
        region.as_object_mut().unwrap().remove("byteOffset");
        region.as_object_mut().unwrap().remove("startLine");
    }
    assert!(!validator.is_valid(&broken));
}
