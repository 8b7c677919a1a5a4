//! Binary content is searched: Secrets as etcd and k3s store them (Kubernetes protobuf in a
//! bbolt file, `etcdctl get -w protobuf`, a SQLite `state.db`), core dumps; findings there
//! are located by byte offset. Media and data in compressors leakscan does not open are
//! counted by kind; executables and random bytes give nothing.

#[path = "../../scanner-core/tests/common/mod.rs"]
mod common;
mod support_cli;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support_cli::{error_kinds, leakscan_bounded, scan_json};

const LIMIT: Duration = Duration::from_secs(120);
const NOW: &str = "2025-01-01T00:00:00Z";
const NS: &str = "ci";
const SA: &str = "deployer";
const SECRET: &str = "deployer-token-7xk2p";

/// Protocol buffers, written by hand: only the wire types Kubernetes objects use.
mod pb {
    /// A base-128 varint.
    pub fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// Field `n` of wire type 2 (string, bytes, embedded message).
    pub fn bytes(n: u64, v: &[u8], out: &mut Vec<u8>) {
        varint(n << 3 | 2, out);
        varint(v.len() as u64, out);
        out.extend_from_slice(v);
    }

    /// Field `n` of wire type 0 (integers, bools).
    pub fn int(n: u64, v: u64, out: &mut Vec<u8>) {
        varint(n << 3, out);
        varint(v, out);
    }

    /// One entry of a `map<string, _>` field `n`, as an embedded `{1: key, 2: value}`.
    pub fn entry(n: u64, key: &str, value: &[u8], out: &mut Vec<u8>) {
        let mut e = Vec::new();
        bytes(1, key.as_bytes(), &mut e);
        bytes(2, value, &mut e);
        bytes(n, &e, out);
    }
}

/// A CA certificate as a cluster's `ca.crt`.
fn ca_pem() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "kubernetes");
    ca.self_signed(&key).unwrap().pem()
}

/// The value etcd stores under `/registry/secrets/NS/SECRET` for a legacy service-account
/// token Secret: `k8s\0`, then a `runtime.Unknown` whose `raw` is the protobuf `v1.Secret`
/// (fields as k8s.io/api/core/v1/generated.proto numbers them; gogo-protobuf writes empty
/// strings and map entries sorted by key).
fn etcd_secret_value(token: &str) -> Vec<u8> {
    let mut meta = Vec::new();
    pb::bytes(1, SECRET.as_bytes(), &mut meta); // name
    pb::bytes(2, b"", &mut meta); // generateName
    pb::bytes(3, NS.as_bytes(), &mut meta); // namespace
    pb::bytes(4, b"", &mut meta); // selfLink
    pb::bytes(5, b"1b5c2d7e-93a4-4f0b-8c6d-2e7f9a1b3c4d", &mut meta); // uid
    pb::bytes(6, b"", &mut meta); // resourceVersion
    pb::int(7, 0, &mut meta); // generation
    let mut created = Vec::new();
    pb::int(1, 1_718_000_000, &mut created);
    pb::int(2, 0, &mut created);
    pb::bytes(8, &created, &mut meta); // creationTimestamp
    pb::entry(
        12,
        "kubernetes.io/service-account.name",
        SA.as_bytes(),
        &mut meta,
    );
    pb::entry(
        12,
        "kubernetes.io/service-account.uid",
        b"6c4a1a3e-2d4b-4f37-9d2a-0c1e5b7f9a11",
        &mut meta,
    );
    let mut secret = Vec::new();
    pb::bytes(1, &meta, &mut secret); // metadata
    pb::entry(2, "ca.crt", ca_pem().as_bytes(), &mut secret); // data, sorted by key
    pb::entry(2, "namespace", NS.as_bytes(), &mut secret);
    pb::entry(2, "token", token.as_bytes(), &mut secret);
    pb::bytes(3, b"kubernetes.io/service-account-token", &mut secret); // type
    let mut type_meta = Vec::new();
    pb::bytes(1, b"v1", &mut type_meta);
    pb::bytes(2, b"Secret", &mut type_meta);
    let mut unknown = b"k8s\0".to_vec();
    pb::bytes(1, &type_meta, &mut unknown); // typeMeta
    pb::bytes(2, &secret, &mut unknown); // raw
    pb::bytes(3, b"", &mut unknown); // contentEncoding
    pb::bytes(4, b"", &mut unknown); // contentType
    unknown
}

/// Where `needle` starts in `hay` (the test's own record of where it put the token).
fn offset_of(hay: &[u8], needle: &str) -> u64 {
    hay.windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .expect("token written") as u64
}

fn legacy() -> String {
    common::legacy_token(NS, SA, SECRET)
}

fn scan(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--now", NOW];
    all.extend_from_slice(args);
    scan_json(dir, &all, LIMIT)
}

/// The one finding of a report, checked to be the legacy token at `offset` of `path`.
fn assert_token_at(doc: &Value, path: &str, offset: u64, token: &str) {
    let f = doc["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{doc:#}");
    let f = &f[0];
    assert_eq!(f["rule_id"], "k8s-sa-token-legacy");
    assert_eq!(f["path"], path);
    assert_eq!(f["byte_offset"], offset);
    assert_eq!(f["decoded_from"], serde_json::json!(["binary"]));
    assert_eq!(f["token"]["namespace"], NS);
    assert_eq!(f["token"]["service_account"], SA);
    assert_eq!(f["token"]["secret_name"], SECRET);
    assert_eq!(f["token"]["expires_at"], Value::Null);
    // The redacted secret shows its length: the token ends where it should, not glued to
    // the protobuf bytes around it.
    let shown = f["secret"].as_str().unwrap();
    assert!(
        shown.ends_with(&format!("[REDACTED {} chars]", token.len())),
        "{shown}"
    );
}

#[test]
fn etcdctl_get_protobuf_output_gives_the_token_at_its_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let token = legacy();
    let value = etcd_secret_value(&token);
    // `etcdctl get /registry/secrets/ci/deployer-token-7xk2p -w protobuf`: the marshalled
    // etcdserverpb.RangeResponse (header, kvs[], count).
    let mut header = Vec::new();
    pb::int(1, 0x9f2c_41d7_6a3b_0e15, &mut header); // cluster_id
    pb::int(2, 0x3c7e_9a1f_58d2_6b40, &mut header); // member_id
    pb::int(3, 48_213, &mut header); // revision
    pb::int(4, 7, &mut header); // raft_term
    let mut kv = Vec::new();
    pb::bytes(
        1,
        format!("/registry/secrets/{NS}/{SECRET}").as_bytes(),
        &mut kv,
    );
    pb::int(2, 1_024, &mut kv); // create_revision
    pb::int(3, 1_024, &mut kv); // mod_revision
    pb::int(4, 1, &mut kv); // version
    pb::bytes(5, &value, &mut kv);
    let mut resp = Vec::new();
    pb::bytes(1, &header, &mut resp);
    pb::bytes(2, &kv, &mut resp);
    pb::int(4, 1, &mut resp); // count
    std::fs::write(dir.path().join("secret.pb"), &resp).unwrap();

    let (code, doc) = scan(dir.path(), &["secret.pb"]);
    assert_eq!(code, 1, "{doc:#}");
    let at = offset_of(&resp, &token);
    // The bytes before the token are its length varint (two bytes for ~900 characters).
    let mut len = Vec::new();
    pb::varint(token.len() as u64, &mut len);
    assert_eq!(resp[at as usize - len.len()..at as usize], len[..]);
    assert_token_at(&doc, "secret.pb", at, &token);
    assert_eq!(doc["stats"]["complete"], true);

    // SARIF locates it by bytes only (a binary artifact has no text region).
    let out = leakscan_bounded(
        dir.path(),
        &["scan", "--now", NOW, "-f", "sarif", "secret.pb"],
        &[],
        LIMIT,
    );
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let region = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        *region,
        serde_json::json!({"byteOffset": at, "byteLength": token.len()})
    );
    // Text output names the offset instead of a meaningless line.
    let out = leakscan_bounded(
        dir.path(),
        &[
            "scan",
            "--now",
            NOW,
            "-f",
            "text",
            "--color",
            "never",
            "secret.pb",
        ],
        &[],
        LIMIT,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("@{at} ")) && text.contains("ci/deployer"),
        "{text}"
    );
}

/// A bbolt page: the 16-byte header (id, flags, count, overflow), then `body`, zero-filled.
fn bolt_page(id: u64, flags: u16, count: u16, body: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(4096);
    p.extend(id.to_le_bytes());
    p.extend(flags.to_le_bytes());
    p.extend(count.to_le_bytes());
    p.extend(0u32.to_le_bytes());
    p.extend_from_slice(body);
    p.resize(p.len().div_ceil(4096) * 4096, 0);
    p
}

#[test]
fn secret_in_an_etcd_bbolt_file_is_found_at_its_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let token = legacy();
    let value = etcd_secret_value(&token);
    // member/snap/db: two meta pages (magic 0xED0CDAED, version 2, 4 KiB pages), then a
    // leaf page with one element header (flags, pos, ksize, vsize), the key and the value.
    let mut meta = Vec::new();
    meta.extend(0xED0C_DAEDu32.to_le_bytes());
    meta.extend(2u32.to_le_bytes());
    meta.extend(4096u32.to_le_bytes());
    let key = format!("/registry/secrets/{NS}/{SECRET}");
    let mut leaf = Vec::new();
    leaf.extend(0u32.to_le_bytes());
    leaf.extend(16u32.to_le_bytes());
    leaf.extend((key.len() as u32).to_le_bytes());
    leaf.extend((value.len() as u32).to_le_bytes());
    leaf.extend_from_slice(key.as_bytes());
    leaf.extend_from_slice(&value);
    let mut db = bolt_page(0, 0x04, 0, &meta);
    db.extend(bolt_page(1, 0x04, 0, &meta));
    db.extend(bolt_page(2, 0x02, 1, &leaf));
    db.extend(vec![0u8; 64 * 4096]); // free pages
    std::fs::create_dir_all(dir.path().join("member/snap")).unwrap();
    std::fs::write(dir.path().join("member/snap/db"), &db).unwrap();

    let (code, doc) = scan(dir.path(), &["member/snap/db"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_token_at(&doc, "member/snap/db", offset_of(&db, &token), &token);
}

/// Runs `tool args` with `input` on stdin; `None` when the tool is not installed (fails
/// instead under CI=true, where every tool the tests use must be there).
fn run_tool(tool: &str, args: &[&str], input: &[u8], cwd: &Path) -> Option<Vec<u8>> {
    use std::io::Write;
    let child = Command::new(tool)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{tool} is needed under CI: {e}")
        }
        Err(_) => {
            eprintln!("{tool} not installed: skipped");
            return None;
        }
    };
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02X}")).collect()
}

#[test]
fn secret_in_a_k3s_sqlite_state_db_is_found_at_its_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let token = legacy();
    let value = etcd_secret_value(&token);
    // k3s keeps the cluster in SQLite through kine: one row per revision of each key.
    let sql = format!(
        "CREATE TABLE kine (id INTEGER PRIMARY KEY AUTOINCREMENT, name INTEGER, created \
         INTEGER, deleted INTEGER, create_revision INTEGER, prev_revision INTEGER, lease \
         INTEGER, value BLOB, old_value BLOB);\n\
         CREATE INDEX kine_name_index ON kine (name);\n\
         INSERT INTO kine (name, created, deleted, create_revision, prev_revision, lease, \
         value, old_value) VALUES ('/registry/namespaces/{NS}', 1, 0, 0, 0, 0, X'{}', NULL);\n\
         INSERT INTO kine (name, created, deleted, create_revision, prev_revision, lease, \
         value, old_value) VALUES ('/registry/secrets/{NS}/{SECRET}', 1, 0, 0, 0, 0, X'{}', \
         NULL);\n",
        hex(b"k8s\0\n\x0f\n\x02v1\x12\tNamespace\x12\x08\n\x06\n\x02ci\x1a\0\x1a\0\"\0"),
        hex(&value)
    );
    let db_path = dir.path().join("state.db");
    let Some(_) = run_tool(
        "sqlite3",
        &[db_path.to_str().unwrap()],
        sql.as_bytes(),
        dir.path(),
    ) else {
        return;
    };
    let db = std::fs::read(&db_path).unwrap();
    assert!(db.starts_with(b"SQLite format 3\0"));
    let (code, doc) = scan(dir.path(), &["state.db"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_token_at(&doc, "state.db", offset_of(&db, &token), &token);
}

#[test]
fn core_dump_like_blob_big_enough_to_be_mapped_in_windows() {
    let dir = tempfile::tempdir().unwrap();
    let token = legacy();
    // 24 MiB (mapped, several 8 MiB windows): an ELF core header, zeros, random pages, the
    // token in a heap page across a window boundary, framed by NULs and pointer bytes.
    let mut core = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x04\0\x3e\0".to_vec();
    core.resize(8 << 20, 0);
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    while core.len() < (16 << 20) - 300 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        core.extend(rng.to_le_bytes());
    }
    let at = core.len() + 8;
    core.extend(b"\x10\x7f\0\0\x01\0\0\0");
    core.extend(token.as_bytes());
    core.extend(b"\0\0\x90\x1c\x55\x55\0\0");
    core.resize(24 << 20, 0);
    std::fs::write(dir.path().join("core.4242"), &core).unwrap();
    let (code, doc) = scan(dir.path(), &["core.4242"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_token_at(&doc, "core.4242", at as u64, &token);

    // Read instead of mapped (streamed in chunks), the same finding.
    let (_, doc) = scan(dir.path(), &["--no-mmap", "core.4242"]);
    assert_token_at(&doc, "core.4242", at as u64, &token);
}

/// The smallest real PNG (1x1, one white greyscale pixel) and GIF (1x1, transparent).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x00\x00\x00\x00\x3a\x7e\x9b\x55\0\0\0\nIDAT\x08\xd7c\xf8\x0f\0\x01\x01\x01\0\x1b\xb6\xeeV\0\0\0\0IEND\xaeB`\x82";
const GIF: &[u8] = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";

#[test]
fn media_and_unopened_compression_are_counted_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nusers:\n- name: {SA}\n  user:\n    token: {}\n",
        legacy()
    );
    // Media, as their writers start them (a JPEG's JFIF header, an MP4's ftyp box ...).
    let media: &[(&str, &[u8])] = &[
        ("logo.png", PNG),
        ("spinner.gif", GIF),
        (
            "photo.jpg",
            b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0",
        ),
        (
            "demo.mp4",
            b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41\0\0\0\x08free",
        ),
        (
            "jingle.mp3",
            b"ID3\x04\0\0\0\0\x00\x23TSSE\0\0\0\x0f\0\0\0Lavf58.76.100\0",
        ),
        (
            "alert.wav",
            b"RIFF\x24\x08\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x44\xac\0\0",
        ),
        (
            "font.woff2",
            b"wOF2\0\x01\0\0\0\0\x05\x4c\0\x0a\0\0\0\0\x0a\x8c",
        ),
    ];
    for (name, head) in media {
        std::fs::write(root.join(name), head).unwrap();
    }
    // Real compressors' output of a kubeconfig: not searched, and said to be incomplete.
    let mut compressed = Vec::new();
    for (tool, args, name) in [
        ("xz", &["-c"][..], "admin.conf.xz"),
        ("bzip2", &["-c"][..], "admin.conf.bz2"),
        ("zstd", &["-q", "-c"][..], "admin.conf.zst"),
        ("lz4", &["-q", "-c"][..], "admin.conf.lz4"),
    ] {
        if let Some(out) = run_tool(tool, args, kubeconfig.as_bytes(), root) {
            std::fs::write(root.join(name), out).unwrap();
            compressed.push(name);
        }
    }
    std::fs::write(root.join("admin.conf"), &kubeconfig).unwrap();

    let (code, doc) = scan(root, &["."]);
    assert_eq!(code, 1, "{doc:#}");
    let found: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(found, vec!["admin.conf"], "{doc:#}");
    let by = &doc["stats"]["skipped_by_reason"];
    assert_eq!(by["media"], media.len() as u64, "{by}");
    if compressed.is_empty() {
        assert_eq!(by.get("unsupported-compression"), None);
    } else {
        assert_eq!(by["unsupported-compression"], compressed.len() as u64);
    }
    assert_eq!(doc["stats"]["skipped"], media.len() as u64);
    assert_eq!(doc["stats"]["incomplete"], compressed.len() as u64);
    assert_eq!(doc["stats"]["complete"], compressed.is_empty());
    // Media are only counted (a checkout holds thousands); what could not be read is listed
    // with the format named.
    let listed = error_kinds(&doc);
    let mut want: Vec<(String, String)> = compressed
        .iter()
        .map(|n| (n.to_string(), "unsupported-compression".to_string()))
        .collect();
    want.sort();
    assert_eq!(listed, want);
    let messages: Vec<&str> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    for m in &messages {
        assert!(
            ["xz", "bzip2", "zstd", "lz4"]
                .iter()
                .any(|f| m.starts_with(&format!("{f}-compressed data"))),
            "{m}"
        );
    }
    // -v lists the media too, each with its format.
    let (_, doc) = scan(root, &["-v", "."]);
    let png = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "logo.png")
        .cloned()
        .unwrap_or_default();
    assert_eq!(png["kind"], "media");
    assert!(png["message"].as_str().unwrap().starts_with("PNG image"));
}

#[test]
fn executables_and_random_bytes_give_no_findings() {
    let dir = tempfile::tempdir().unwrap();
    // The leakscan binary itself holds every keyword its rules look for; /bin/ls a real
    // system ELF; 32 MiB of random bytes (mapped in windows) and 1 MiB more (held whole).
    let me = std::fs::read(env!("CARGO_BIN_EXE_leakscan")).unwrap();
    std::fs::write(dir.path().join("leakscan.bin"), &me).unwrap();
    let mut args = vec!["leakscan.bin", "random.bin", "small.bin"];
    if let Ok(ls) = std::fs::read("/bin/ls") {
        std::fs::write(dir.path().join("ls"), ls).unwrap();
        args.push("ls");
    }
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = Vec::with_capacity(33 << 20);
    while random.len() < (33 << 20) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        random.extend(rng.to_le_bytes());
    }
    std::fs::write(dir.path().join("random.bin"), &random[..32 << 20]).unwrap();
    std::fs::write(dir.path().join("small.bin"), &random[32 << 20..]).unwrap();
    let (code, doc) = scan(dir.path(), &args);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["findings"], serde_json::json!([]));
    assert_eq!(doc["stats"]["files"], args.len() as u64);
    assert_eq!(doc["stats"]["complete"], true);
}
