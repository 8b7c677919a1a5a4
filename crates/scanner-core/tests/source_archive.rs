//! Archives built in the test (zip, tar, tar.gz, gz, nested), read without extracting, and
//! hostile ones (bomb, corrupt, encrypted, too many members, `../` names) survived.

mod common;
mod source_support;

use std::fs;
use std::path::Path;

use scanner_core::source::archive::ArchiveLimits;
use scanner_core::source::fs::ScanOptions;
use source_support::*;

/// Writes `dir/name` and returns its label in a scan of `dir`: relative to the scan root.
fn put(dir: &Path, name: &str, data: &[u8]) -> String {
    fs::write(dir.join(name), data).unwrap();
    name.to_owned()
}

#[test]
fn zip_tar_tgz_gz_and_nesting_with_member_labels() {
    let dir = tempfile::tempdir().unwrap();
    let (log, tok) = token_text("ci");
    let (line, col) = pos(&log, &tok);
    let inner_tgz = gz(&tar(&[
        ("etc/kubernetes/admin.conf", KUBECONFIG),
        ("etc/motd", b"welcome\n"),
    ]));
    let bundle = zip(
        &[
            ("logs/build.log", &log),
            ("backup/etc.tar.gz", &inner_tgz),
            ("README.md", b"nothing here\n"),
        ],
        true,
    );
    let z = put(dir.path(), "bundle.zip", &bundle);
    let t = put(dir.path(), "plain.tar", &tar(&[("k/config", KUBECONFIG)]));
    let g = put(dir.path(), "app.log.gz", &gz(&log));
    // Detected by content, whatever the name says.
    let disguised = put(dir.path(), "notes.txt", &zip(&[("a.log", &log)], false));

    let out = scan(dir.path());
    let legacy = "k8s-sa-token-legacy".to_string();
    let kc = "kubeconfig-token".to_string();
    assert_eq!(
        out.positions(),
        vec![
            (legacy.clone(), format!("{g}!/app.log"), line, col),
            (
                kc.clone(),
                format!("{z}!/backup/etc.tar.gz!/etc/kubernetes/admin.conf"),
                4,
                12
            ),
            (legacy.clone(), format!("{z}!/logs/build.log"), line, col),
            (legacy, format!("{disguised}!/a.log"), line, col),
            (kc, format!("{t}!/k/config"), 4, 12),
        ]
    );
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    // Members count as files: 3 in the zip (+2 in the tgz), 1 tar, 1 gz, 1 disguised.
    assert_eq!(out.stats.files, 2 + 2 + 1 + 1 + 1);
}

#[test]
fn depth_limit_stops_opening_archives() {
    let dir = tempfile::tempdir().unwrap();
    let c = zip(&[("c.yaml", KUBECONFIG)], true);
    let b = zip(&[("b.yaml", KUBECONFIG), ("c.zip", &c)], true);
    let a = put(dir.path(), "a.zip", &zip(&[("b.zip", &b)], true));
    let opts = ScanOptions {
        archive: ArchiveLimits {
            max_depth: 2,
            ..ArchiveLimits::default()
        },
        ..ScanOptions::default()
    };
    let out = scan_with(&scanner(), &[dir.path().to_path_buf()], &opts);
    let paths: Vec<String> = out.findings.iter().map(|f| f.path.clone()).collect();
    assert_eq!(paths, vec![format!("{a}!/b.zip!/b.yaml")]);
    assert_eq!(
        out.kinds_of(&format!("{a}!/b.zip!/c.zip")),
        vec!["archive-depth"]
    );

    // Default depth (3) reaches c.yaml.
    let out = scan(dir.path());
    assert_eq!(out.findings.len(), 2);
    assert_eq!(out.findings[1].path, format!("{a}!/b.zip!/c.zip!/c.yaml"));
}

#[test]
fn zip_bomb_is_stopped_and_earlier_findings_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (log, tok) = token_text("before");
    // Text, not zeros: a binary member is given up after its first 8 KiB anyway.
    let filler = vec![b'a'; 24 << 20];
    let bomb = zip(
        &[
            ("1-first.log", &log),
            ("2-bomb.txt", &filler),
            ("3-after.log", &log),
        ],
        true,
    );
    assert!(bomb.len() < 1 << 20, "small on disk: {} bytes", bomb.len());
    let z = put(dir.path(), "bomb.zip", &bomb);

    // Ratio cap (default 250:1 past 4 MiB): the member is abandoned, the next one scanned.
    let out = scan(dir.path());
    assert_eq!(out.kinds_of(&format!("{z}!/2-bomb.txt")), vec!["zip-bomb"]);
    let found: Vec<&str> = out.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        found,
        vec![
            format!("{z}!/1-first.log").as_str(),
            format!("{z}!/3-after.log").as_str()
        ]
    );
    assert_eq!(
        (out.findings[0].line, out.findings[0].column),
        pos(&log, &tok)
    );

    // Total cap: everything after the limit is given up, what came before is kept.
    let opts = ScanOptions {
        archive: ArchiveLimits {
            max_total_bytes: 8 << 20,
            max_ratio: u64::MAX,
            ..ArchiveLimits::default()
        },
        ..ScanOptions::default()
    };
    let out = scan_with(&scanner(), &[dir.path().to_path_buf()], &opts);
    let e = &out.errors;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        (e[0].0.clone(), e[0].1.as_str()),
        (format!("{z}!/2-bomb.txt"), "zip-bomb")
    );
    assert!(e[0].2.contains("8388608"), "{}", e[0].2);
    let found: Vec<&str> = out.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(found, vec![format!("{z}!/1-first.log").as_str()]);
}

#[test]
fn gzip_bomb_in_a_tarball_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = token_text("tgz");
    let filler = vec![b' '; 24 << 20];
    let tgz = gz(&tar(&[("a.log", &log), ("spaces", &filler)]));
    assert!(tgz.len() < 1 << 20);
    let p = put(dir.path(), "x.tgz", &tgz);
    let out = scan(dir.path());
    assert_eq!(out.at(&format!("{p}!/a.log")).len(), 1);
    assert_eq!(
        out.kinds_of(&format!("{p}!/spaces")),
        vec!["zip-bomb"],
        "{:?}",
        out.errors
    );
}

/// Sets the "encrypted" flag (general purpose bit 0) of every member of a zip.
fn mark_encrypted(mut z: Vec<u8>) -> Vec<u8> {
    for i in 0..z.len().saturating_sub(10) {
        if z[i..].starts_with(b"PK\x03\x04") {
            z[i + 6] |= 1;
        } else if z[i..].starts_with(b"PK\x01\x02") {
            z[i + 8] |= 1;
        }
    }
    z
}

#[test]
fn corrupt_encrypted_crowded_and_escaping_archives() {
    let dir = tempfile::tempdir().unwrap();
    let (log, tok) = token_text("hostile");
    let good = zip(&[("a.log", &log)], true);
    let truncated = put(dir.path(), "truncated.zip", &good[..good.len() - 30]);
    let enc = put(dir.path(), "enc.zip", &mark_encrypted(good.clone()));
    let escaping = put(
        dir.path(),
        "escape.zip",
        &zip(&[("../../etc/cron.d/evil", &log)], false),
    );
    let many: Vec<(String, Vec<u8>)> = (0..30)
        .map(|i| (format!("m{i:02}.txt"), b"nothing\n".to_vec()))
        .collect();
    let many_refs: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let crowded = put(dir.path(), "crowded.zip", &zip(&many_refs, false));
    // A gzip whose stream breaks off: the token before the break is still found.
    let mut text = log.clone();
    for i in 0..50_000 {
        text.extend_from_slice(format!("line {i} {}\n", i * 7919 % 10007).as_bytes());
    }
    let gzipped = gz(&text);
    let broken = put(dir.path(), "broken.log.gz", &gzipped[..gzipped.len() / 2]);

    let opts = ScanOptions {
        archive: ArchiveLimits {
            max_members: 10,
            ..ArchiveLimits::default()
        },
        ..ScanOptions::default()
    };
    let out = scan_with(&scanner(), &[dir.path().to_path_buf()], &opts);
    assert_eq!(out.kinds_of(&truncated), vec!["corrupt-archive"]);
    assert_eq!(out.kinds_of(&format!("{enc}!/a.log")), vec!["encrypted"]);
    assert_eq!(out.kinds_of(&crowded), vec!["too-many-members"]);
    assert_eq!(
        out.kinds_of(&format!("{broken}!/broken.log")),
        vec!["corrupt-archive"]
    );
    let (line, col) = pos(&log, &tok);
    assert_eq!(
        out.positions(),
        vec![
            (
                "k8s-sa-token-legacy".into(),
                format!("{broken}!/broken.log"),
                line,
                col
            ),
            (
                "k8s-sa-token-legacy".into(),
                format!("{escaping}!/../../etc/cron.d/evil"),
                line,
                col
            ),
        ]
    );
    // Only labels: nothing was written outside (or inside) the scanned tree.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 5);
    let crowded_members = out
        .scanned
        .iter()
        .filter(|(p, _)| p.starts_with(&format!("{crowded}!/")))
        .count();
    assert_eq!(crowded_members, 10);
}

#[test]
fn archives_on_stdin_like_streams_and_utf16_members() {
    let dir = tempfile::tempdir().unwrap();
    let (log, tok) = token_text("member16");
    let mut le = vec![0xff, 0xfe];
    for u in std::str::from_utf8(&log).unwrap().encode_utf16() {
        le.extend_from_slice(&u.to_le_bytes());
    }
    // A zip nested in a tar.gz has to be read into memory (no seeking in a stream).
    let inner = zip(&[("win.log", &le)], true);
    let p = put(
        dir.path(),
        "outer.tar.gz",
        &gz(&tar(&[("inner.zip", &inner)])),
    );
    let out = scan(dir.path());
    let f = &out.findings;
    assert_eq!(f.len(), 1, "{:?}", out.errors);
    assert_eq!(f[0].path, format!("{p}!/inner.zip!/win.log"));
    assert_eq!((f[0].line, f[0].column), pos(&log, &tok));
    assert_eq!(f[0].decoded_from, vec!["utf-16le".to_string()]);
}
