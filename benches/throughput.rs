//! Single-thread throughput of `Scanner::scan_bytes` and the cost of building a scanner, on
//! ordinary text and on adversarial corpora (issue 11: no input below 100 MB/s on one core).
//!
//! `cargo bench -p scanner-core --bench throughput` (set LEAKSCAN_BENCH_MIB to change the
//! corpus size; default 256; LEAKSCAN_BENCH_ONLY=NAME,NAME to run some corpora).
//! `LEAKSCAN_BENCH_DUMP=DIR cargo bench -p scanner-core --bench throughput` writes the corpora
//! to DIR/NAME.txt instead, for `benches/bench_worst.sh` to time the CLI on them.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use scanner_core::{Origin, Scanner};

/// Deterministic pseudo-random numbers (no dependency, same corpus on every machine).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

const TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwia3ViZXJuZXRlcy5pby9zZXJ2aWNlYWNjb3VudC9uYW1lc3BhY2UiOiJjaSJ9.c01CdD-zJ2VmzZWZ7hyJ_GWWLAnbFz2wL-Mw_CxVfhAM9MoqpewviOJpC3p8YoRsyayBmqWMwA9mIPUY7PXCFD_SCWqKnGUexl3VvFv_xGLlDnNYpnHpXF-uSQrE8G3NEx_zuW1T9vhnvpj616qbR2fbf7RqlLynm0QyHRdO2EdI7wn0MifQwCov64nIYTHWiTNWHZFwkqb2yok0MpIQjn97FFH_z96Hy4zKMMsuQNtV6r9RBubIsMyaNSP8KIS8241yKDySURFQzJ9rDsVmDsOxDDnYbJ7GKfCvVYNVFpm1f54YrFflx169tj9WGxL8kvOOKWSIA9HMRdoJ7Rt-pQ";

/// Realistic application logs, kube-apiserver audit-ish JSON and YAML manifests, with a
/// handful of tokens.
fn ordinary(size: usize) -> Vec<u8> {
    let mut r = Lcg(42);
    let mut out = String::with_capacity(size + 4096);
    let levels = ["INFO", "DEBUG", "WARN", "ERROR", "INFO", "INFO"];
    let comps = [
        "api",
        "worker",
        "scheduler",
        "payments",
        "ingress-nginx",
        "cert-manager",
    ];
    let msgs = [
        "request completed",
        "reconciling object",
        "cache miss for key",
        "retrying after backoff",
        "connection reset by peer",
        "user session refreshed",
        "pulling image registry.example.com/app:1.4.2",
    ];
    let mut n = 0u64;
    while out.len() < size {
        n += 1;
        match r.next() % 10 {
            0..=5 => out.push_str(&format!(
                "2024-03-12T10:{:02}:{:02}.{:03}Z {} [{}] {} id={:x} latency_ms={} path=/api/v1/namespaces/default/pods/{}-{:x}\n",
                r.next() % 60, r.next() % 60, r.next() % 1000, r.pick(&levels), r.pick(&comps),
                r.pick(&msgs), r.next(), r.next() % 900, r.pick(&comps), r.next() % 65536
            )),
            6..=7 => out.push_str(&format!(
                "{{\"kind\":\"Event\",\"level\":\"Metadata\",\"auditID\":\"{:x}-{:x}\",\"verb\":\"get\",\"user\":{{\"username\":\"system:serviceaccount:{}:default\"}},\"objectRef\":{{\"resource\":\"configmaps\",\"namespace\":\"{}\"}},\"responseStatus\":{{\"code\":200}}}}\n",
                r.next(), r.next(), r.pick(&comps), r.pick(&comps)
            )),
            _ => out.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {}\n  labels:\n    app: {}\nspec:\n  replicas: {}\n  template:\n    spec:\n      containers:\n      - name: main\n        image: registry.example.com/{}:{}.{}\n        env:\n        - name: LOG_LEVEL\n          value: info\n",
                r.pick(&comps), r.pick(&comps), r.next() % 5 + 1, r.pick(&comps), r.next() % 9, r.next() % 20
            )),
        }
        if n.is_multiple_of(200_000) {
            out.push_str(&format!("Authorization: Bearer {TOKEN}\n"));
        }
    }
    out.into_bytes()
}

/// Text dense with `eyJ` look-alikes (base64 JSON blobs, truncated tokens) that the prefilter
/// hits and the JWT check must reject.
fn lookalikes(size: usize) -> Vec<u8> {
    let mut r = Lcg(7);
    let mut out = String::with_capacity(size + 4096);
    while out.len() < size {
        match r.next() % 3 {
            0 => out.push_str("cursor=eyJwYWdlIjoyLCJzaXplIjo1MH0 next=eyJwYWdlIjozfQ\n"),
            1 => out.push_str("token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.truncated\n"),
            _ => out.push_str(&format!(
                "state={:x} eyJhbGciOi...REDACTED seen\n",
                r.next()
            )),
        }
    }
    out.into_bytes()
}

/// `ordinary` text as one huge line: a minified log, newlines turned into spaces.
fn one_line(size: usize) -> Vec<u8> {
    let mut out = ordinary(size);
    for b in &mut out {
        if *b == b'\n' {
            *b = b' ';
        }
    }
    out
}

/// Repeats `unit` (made from a counter) until `size` bytes.
fn repeat(size: usize, mut unit: impl FnMut(u64) -> String) -> Vec<u8> {
    let mut out = String::with_capacity(size + 4096);
    let mut n = 0u64;
    while out.len() < size {
        out.push_str(&unit(n));
        n += 1;
    }
    out.into_bytes()
}

/// Indented `password:` / `token:` YAML lines, not under any kubeconfig `user:`: every line
/// is a keyword hit whose structure check must look back for the enclosing key.
fn yaml_keys(size: usize) -> Vec<u8> {
    let mut out = b"settings:\n".to_vec();
    out.extend(repeat(size, |n| {
        format!("  password: s3cr3t-{n:08x}\n  token: t0k3n-{n:08x}-abcdef\n")
    }));
    out
}

/// One JSON array of objects keyed `password` / `token` (a user dump, not a kubeconfig): every
/// key's structure check walks back over braces to the enclosing key.
fn json_array(size: usize) -> Vec<u8> {
    let mut out = br#"{"items":["#.to_vec();
    out.extend(repeat(size, |n| {
        format!(r#"{{"password":"s3cr3t-{n:08x}","token":"t0k3n-{n:08x}"}},"#)
    }));
    out.extend_from_slice(b"{}]}\n");
    out
}

/// Base64 alphabet: fixed random base64 text from the LCG.
fn b64_text(r: &mut Lcg, len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..len)
        .map(|_| A[(r.next() % 64) as usize] as char)
        .collect()
}

/// Long base64 runs (64 KiB lines) that each start like a base64-encoded manifest, so
/// every byte is decoded and the decoded bytes rescanned.
fn long_base64(size: usize) -> Vec<u8> {
    let mut r = Lcg(11);
    repeat(size, |_| {
        format!("YXBpVmVyc2lvbjogdjEK{}\n", b64_text(&mut r, 64 * 1024))
    })
}

/// Base64 of JSON objects (`eyJ...`) that are not JWTs, long enough to be decoded and
/// rescanned, beside short cursors.
fn eyj_json(size: usize) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut r = Lcg(13);
    repeat(size, |n| {
        let cursor = format!(
            r#"{{"page":{},"size":50,"after":"{:016x}","sort":"created_at"}}"#,
            n,
            r.next()
        );
        format!("next={} prev=eyJwYWdlIjoyfQ\n", b64.encode(cursor))
    })
}

/// Log lines holding JSON strings dense with escapes: an escaped kubeconfig (its password
/// a placeholder) and `\/`, `\u00XX` escapes.
fn json_escapes(size: usize) -> Vec<u8> {
    repeat(size, |n| {
        format!(
            r#"{{"ts":{n},"msg":"loaded \u0022cfg\u0022 from \/etc\/kube\/config","kubeconfig":"apiVersion: v1\nkind: Config\nusers:\n- name: u{n}\n  user:\n    password: REDACTED\n"}}"#
        ) + "\n"
    })
}

/// URL query strings dense with percent escapes, including percent-encoded PEM headers.
fn percent_escapes(size: usize) -> Vec<u8> {
    repeat(size, |n| {
        format!(
            "GET /callback?id={n}&cert=%2D%2D%2D%2D%2DBEGIN%20CERTIFICATE%2D%2D%2D%2D%2D%0AMIIBszCCAVmgAwIBAgIU%2F%2Bq%3D%0A&next=%2Fapi%2Fv1%2Fnamespaces%2Fdefault%2Fpods%3Flimit%3D500 HTTP/1.1\n"
        )
    })
}

/// Every corpus: (name, generator).
type Corpus = (&'static str, fn(usize) -> Vec<u8>);
const CORPORA: &[Corpus] = &[
    ("ordinary", ordinary),
    ("eyJ-lookalikes", lookalikes),
    ("eyJ-json-blobs", eyj_json),
    ("yaml-password-token", yaml_keys),
    ("json-password-array", json_array),
    ("eyJ-lines", |n| repeat(n, |_| "eyJ\n".into())),
    ("ZXlK-lines", |n| repeat(n, |_| "ZXlK\n".into())),
    ("LS0tLS1CRUdJT-lines", |n| {
        repeat(n, |_| "LS0tLS1CRUdJT\n".into())
    }),
    ("YXBpVmVyc2lvb-lines", |n| {
        repeat(n, |_| "YXBpVmVyc2lvb\n".into())
    }),
    ("one-huge-line", one_line),
    ("long-base64-runs", long_base64),
    ("json-escapes", json_escapes),
    ("percent-escapes", percent_escapes),
    // A static token file named on every line: heredoc openers, CSV-like prose and stand-in
    // rows, each in the window of the names around it (read once, not once per name).
    ("token.csv-lines", |n| {
        repeat(n, |i| {
            match i % 3 {
                0 => "cat > /etc/kubernetes/token.csv <<EOF\n",
                1 => "x,y,z see token.csv a,b,c\n",
                _ => "${BOOTSTRAP_TOKEN},kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\n",
            }
            .into()
        })
    }),
];

fn bench(c: &mut Criterion) {
    let mib: usize = std::env::var("LEAKSCAN_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let only = std::env::var("LEAKSCAN_BENCH_ONLY").ok();
    let wanted = |name: &str| {
        only.as_ref()
            .is_none_or(|o| o.split(',').any(|w| w == name))
    };
    if let Ok(dir) = std::env::var("LEAKSCAN_BENCH_DUMP") {
        std::fs::create_dir_all(&dir).expect("dump directory");
        for (name, make) in CORPORA.iter().filter(|(n, _)| wanted(n)) {
            let path = std::path::Path::new(&dir).join(format!("{name}.txt"));
            std::fs::write(&path, make(mib << 20)).expect("write corpus");
            eprintln!("wrote {}", path.display());
        }
        return;
    }
    let scanner = Scanner::new();
    let origin = Origin::path("bench");
    let mut g = c.benchmark_group("scan_bytes");
    g.sample_size(10);
    for (name, make) in CORPORA.iter().filter(|(n, _)| wanted(n)) {
        let data = make(mib << 20);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_with_input(
            BenchmarkId::new(*name, format!("{mib}MiB")),
            &data,
            |b, d| b.iter(|| black_box(scanner.scan_bytes(d, &origin))),
        );
    }
    g.finish();
    c.bench_function("build_scanner", |b| b.iter(|| black_box(Scanner::new())));
}

criterion_group!(benches, bench);
criterion_main!(benches);
