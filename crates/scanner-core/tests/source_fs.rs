//! File-tree source: parallel walk, ignore rules, big files in chunks, encodings, and every
//! kind of input that cannot be scanned reported without stopping the scan.

mod common;
mod source_support;

use std::fs;
use std::path::{Path, PathBuf};

use scanner_core::source::fs::ScanOptions;
use scanner_core::{Origin, Scanner};
use source_support::*;

fn write(root: &Path, rel: &str, data: &[u8]) -> PathBuf {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, data).unwrap();
    p
}

#[test]
fn tree_walk_labels_gitignore_hidden_and_exclude() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (text, tok) = token_text("deployer");
    fs::create_dir(root.join(".git")).unwrap();
    write(root, ".gitignore", b"ignored.log\n");
    write(root, "ci/logs/build.log", &text);
    write(root, "ignored.log", &text);
    write(root, ".hidden/notes.txt", &text);
    write(root, "vendor/dump.txt", &text);
    write(root, "kube/config", KUBECONFIG);
    let (line, col) = pos(&text, &tok);

    // Narrowed like a code search tool: ignore rules honoured, hidden entries skipped.
    let opts = ScanOptions {
        no_ignore: false,
        hidden: false,
        exclude: vec!["vendor/".into()],
        threads: 2,
        ..ScanOptions::default()
    };
    let out = scan_with(&scanner(), &[root.to_path_buf()], &opts);
    assert_eq!(
        out.positions(),
        vec![
            (
                "k8s-sa-token-legacy".into(),
                label(root, "ci/logs/build.log"),
                line,
                col
            ),
            ("kubeconfig-token".into(), label(root, "kube/config"), 4, 12),
        ]
    );
    // Each entry left out is reported with its reason (.git is not content: not counted).
    let skipped: Vec<(&str, &str)> = out
        .errors
        .iter()
        .map(|e| (e.0.as_str(), e.1.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            (".gitignore", "hidden"),
            (".hidden", "hidden"),
            ("ignored.log", "ignored"),
            ("vendor", "excluded"),
        ]
    );
    assert_eq!(out.stats.skipped, 4);
    assert_eq!(
        out.stats.files, 2,
        "build.log and kube/config (.gitignore is hidden)"
    );

    // The default brings the other two back; the exclude glob still applies.
    let opts = ScanOptions {
        exclude: vec!["vendor/".into()],
        ..ScanOptions::default()
    };
    let out = scan_with(&scanner(), &[root.to_path_buf()], &opts);
    let paths: Vec<String> = out.findings.iter().map(|f| f.path.clone()).collect();
    assert_eq!(
        paths,
        vec![
            label(root, ".hidden/notes.txt"),
            label(root, "ci/logs/build.log"),
            label(root, "ignored.log"),
            label(root, "kube/config"),
        ]
    );
}

#[test]
fn a_file_named_directly_is_scanned_and_labelled_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "admin.conf", KUBECONFIG);
    let out = scan(&p);
    assert_eq!(
        out.positions(),
        vec![("kubeconfig-token".into(), p.display().to_string(), 4, 12)]
    );
}

/// Lines of ordinary log text up to `len` bytes, starting at line `first`.
fn filler(len: usize, first: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 100);
    let mut n = first;
    while out.len() < len {
        out.extend_from_slice(
            format!(
                "2024-05-01T10:00:{:02}Z INFO request {n} served in 3ms\n",
                n % 60
            )
            .as_bytes(),
        );
        n += 1;
    }
    out.truncate(len);
    out
}

#[test]
fn big_file_token_straddling_chunk_boundaries_found_once_with_true_line() {
    let dir = tempfile::tempdir().unwrap();
    let chunk = 256 * 1024; // the smallest chunk the scanner allows
    let scanner = Scanner::builder()
        .now(NOW)
        .chunk_size(chunk)
        .build()
        .unwrap();
    let tok = common::legacy_token("kube-system", "straddle", "straddle-token-abcde");
    // Tokens that start 40 bytes before each of the first reads' ends (multiples of the
    // chunk size and of chunk - overlap), so each crosses a boundary.
    let mut data = Vec::new();
    let mut starts = Vec::new();
    for boundary in [chunk, 2 * chunk, chunk + chunk / 2, 3 * chunk + 7] {
        let at = boundary - 40;
        if data.len() + 64 > at {
            continue;
        }
        let pad = at - data.len() - 23;
        data.extend_from_slice(&filler(pad, data.len() / 40));
        data.extend_from_slice(b"\nAuthorization: Bearer ");
        starts.push(data.len());
        data.extend_from_slice(tok.as_bytes());
        data.push(b'\n');
    }
    data.extend_from_slice(&filler(600 * 1024, 0));
    assert!(data.len() > 4 * chunk);
    let p = write(dir.path(), "huge.log", &data);

    // Memory-mapped windows (in parallel and not), and chunked reads through scan_reader.
    for (mmap, threads) in [(true, 2), (true, 1), (false, 2)] {
        let opts = ScanOptions {
            in_memory_limit: 64 * 1024,
            mmap,
            window: chunk,
            threads,
            ..ScanOptions::default()
        };
        check_big(&scanner, &p, &data, &starts, &opts);
    }
}

#[test]
fn columns_on_lines_longer_than_a_window_count_from_the_line_start() {
    // Minified JSON or a log without newlines: one line across several windows/chunks.
    let dir = tempfile::tempdir().unwrap();
    let chunk = 256 * 1024;
    let scanner = Scanner::builder()
        .now(NOW)
        .chunk_size(chunk)
        .build()
        .unwrap();
    let tok = common::legacy_token("kube-system", "long", "long-token-abcde");
    let mut data = b"header\n".to_vec();
    let mut starts = Vec::new();
    for k in 1..=3 {
        while data.len() < k * chunk + 1000 * k {
            data.extend_from_slice(b"{\"k\":\"v\",\"n\":12345},");
        }
        data.extend_from_slice(b"\"auth\":\"Bearer ");
        starts.push(data.len());
        data.extend_from_slice(tok.as_bytes());
        data.extend_from_slice(b"\",");
    }
    data.extend_from_slice(&filler(300 * 1024, 0));
    let p = write(dir.path(), "one-line.json", &data);
    for (mmap, threads) in [(true, 2), (true, 1), (false, 1)] {
        let opts = ScanOptions {
            in_memory_limit: 64 * 1024,
            mmap,
            window: chunk,
            threads,
            ..ScanOptions::default()
        };
        check_big(&scanner, &p, &data, &starts, &opts);
    }
}

fn check_big(scanner: &Scanner, p: &Path, data: &[u8], starts: &[usize], opts: &ScanOptions) {
    let out = scan_with(scanner, &[p.to_path_buf()], opts);
    let expected: Vec<(String, String, usize, usize)> = starts
        .iter()
        .map(|&s| {
            let line = data[..s].iter().filter(|&&b| b == b'\n').count() + 1;
            let col = s - data[..s]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1)
                + 1;
            (
                "k8s-sa-token-legacy".into(),
                p.display().to_string(),
                line,
                col,
            )
        })
        .collect();
    assert_eq!(out.positions(), expected, "{opts:?}");
    let offsets: Vec<u64> = out.findings.iter().map(|f| f.byte_offset).collect();
    assert_eq!(
        offsets,
        starts.iter().map(|&s| s as u64).collect::<Vec<_>>()
    );
    // The same as scanning the whole file at once.
    let whole = scanner.scan_bytes(data, &Origin::path(p.display().to_string()));
    assert_eq!(whole.len(), out.findings.len());
    assert_eq!(out.stats.bytes, data.len() as u64);
}

fn utf16(text: &[u8], big_endian: bool, bom: bool) -> Vec<u8> {
    let s = std::str::from_utf8(text).unwrap();
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if big_endian {
            &[0xfe, 0xff]
        } else {
            &[0xff, 0xfe]
        });
    }
    for u in s.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf16_files_are_transcoded_small_and_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (text, tok) = token_text("winlog");
    let (line, col) = pos(&text, &tok);
    write(root, "le-bom.log", &utf16(&text, false, true));
    write(root, "be-bom.log", &utf16(&text, true, true));
    write(root, "le-nobom.log", &utf16(&text, false, false));
    // Bigger than the in-memory limit: transcoded while streaming.
    let mut big = filler(200 * 1024, 0);
    big.extend_from_slice(&text);
    let big_line = pos(&big, &tok).0;
    write(root, "big-le.log", &utf16(&big, false, true));

    let opts = ScanOptions {
        in_memory_limit: 64 * 1024,
        ..ScanOptions::default()
    };
    let out = scan_with(&scanner(), &[root.to_path_buf()], &opts);
    let got: Vec<_> = out
        .findings
        .iter()
        .map(|f| {
            (
                f.path.clone(),
                f.rule_id.as_str(),
                f.line,
                f.column,
                f.decoded_from.clone(),
            )
        })
        .collect();
    let le = vec!["utf-16le".to_string()];
    assert_eq!(
        got,
        vec![
            (
                label(root, "be-bom.log"),
                "k8s-sa-token-legacy",
                line,
                col,
                vec!["utf-16be".into()]
            ),
            (
                label(root, "big-le.log"),
                "k8s-sa-token-legacy",
                big_line,
                col,
                le.clone()
            ),
            (
                label(root, "le-bom.log"),
                "k8s-sa-token-legacy",
                line,
                col,
                le.clone()
            ),
            (
                label(root, "le-nobom.log"),
                "k8s-sa-token-legacy",
                line,
                col,
                le
            ),
        ]
    );
}

#[test]
fn invalid_utf8_and_binary_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (text, tok) = token_text("latin");
    let mut bad = b"caf\xe9 \xc3\x28 \xff\xfd garbage\n".to_vec();
    bad.extend_from_slice(&text);
    write(root, "latin1.log", &bad);
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&text);
    write(root, "image.png", &png);

    let out = scan(root);
    let (line, col) = pos(&bad, &tok);
    assert_eq!(
        out.positions(),
        vec![(
            "k8s-sa-token-legacy".into(),
            label(root, "latin1.log"),
            line,
            col
        )]
    );
    assert_eq!(out.kinds_of(&label(root, "image.png")), vec!["media"]);
    assert_eq!((out.stats.files, out.stats.skipped), (1, 1));
}

#[test]
fn too_large_files_are_skipped_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (text, _) = token_text("big");
    let p = write(dir.path(), "big.log", &text);
    let opts = ScanOptions {
        max_file_size: 100,
        ..ScanOptions::default()
    };
    let out = scan_with(&scanner(), std::slice::from_ref(&p), &opts);
    assert!(out.findings.is_empty());
    let e = &out.errors[0];
    assert_eq!(
        (e.0.as_str(), e.1.as_str()),
        (p.to_str().unwrap(), "too-large")
    );
    assert!(e.2.contains("larger than the maximum"), "{}", e.2);
    // Over the limit means unread: the scan is incomplete, not merely skipped.
    assert_eq!((out.stats.skipped, out.stats.errors), (0, 1));
}

#[cfg(unix)]
#[test]
fn unreadable_files_symlink_loops_broken_links_and_fifos_are_reported() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (text, tok) = token_text("survivor");
    write(root, "a/ok.log", &text);
    let secret = write(root, "a/secret.log", &text);
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).unwrap();
    symlink("..", root.join("a/loop")).unwrap();
    symlink("does-not-exist", root.join("a/dangling")).unwrap();
    let fifo = root.join("a/pipe");
    let have_fifo = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());

    let out = scan(root);
    // Root (as in CI containers) reads a mode-000 file anyway: find out which case this is.
    let really_unreadable = fs::File::open(&secret).is_err();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o644)).unwrap();

    // The scan went on: the readable file's token is there.
    let ok = out.at(&label(root, "a/ok.log"));
    assert_eq!(ok.len(), 1);
    assert_eq!((ok[0].line, ok[0].column), pos(&text, &tok));
    assert_eq!(out.kinds_of(&label(root, "a/loop")), vec!["symlink-loop"]);
    assert_eq!(
        out.kinds_of(&label(root, "a/dangling")),
        vec!["broken-symlink"]
    );
    if have_fifo {
        assert_eq!(out.kinds_of(&label(root, "a/pipe")), vec!["fifo"]);
    } else {
        eprintln!("mkfifo unavailable: FIFO assertion skipped");
    }
    if really_unreadable {
        assert_eq!(
            out.kinds_of(&label(root, "a/secret.log")),
            vec!["permission-denied"]
        );
        assert!(out.at(&label(root, "a/secret.log")).is_empty());
    } else {
        eprintln!("running as root: chmod 000 does not stop reading; permission assertion skipped");
        assert_eq!(out.at(&label(root, "a/secret.log")).len(), 1);
    }
}

#[test]
fn an_exhausted_decode_budget_reaches_the_events_as_incomplete() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let first = common::legacy_token("a", "one", "one-token-aaaaa");
    let second = common::legacy_token("b", "two", "two-token-bbbbb");
    let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
    let text = format!("data:\n  a: {}\n  b: {}\n", b64(&first), b64(&second));
    let p = write(dir.path(), "secrets.yaml", text.as_bytes());
    let tight = Scanner::builder()
        .decode_budget(first.len() + 100)
        .build()
        .unwrap();
    let out = scan_with(&tight, std::slice::from_ref(&p), &ScanOptions::default());
    assert_eq!(
        out.findings.len(),
        1,
        "the token within the budget is still found"
    );
    let e = &out.errors[0];
    assert_eq!(
        (e.0.as_str(), e.1.as_str()),
        (p.to_str().unwrap(), "decode-budget")
    );
    assert_eq!(
        out.stats.errors, 1,
        "an undecoded rest is incomplete, not skipped"
    );
}
