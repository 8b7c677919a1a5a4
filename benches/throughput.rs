//! Single-thread throughput of `Scanner::scan_bytes` and the cost of building a scanner.
//!
//! `cargo bench -p scanner-core --bench throughput` (set LEAKSCAN_BENCH_MIB to change the
//! corpus size; default 256).

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

fn bench(c: &mut Criterion) {
    let mib: usize = std::env::var("LEAKSCAN_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let scanner = Scanner::new();
    let origin = Origin::path("bench");
    let mut g = c.benchmark_group("scan_bytes");
    g.sample_size(10);
    for (name, data) in [
        ("ordinary", ordinary(mib << 20)),
        ("eyJ-lookalikes", lookalikes(mib << 20)),
    ] {
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_with_input(
            BenchmarkId::new(name, format!("{mib}MiB")),
            &data,
            |b, d| b.iter(|| black_box(scanner.scan_bytes(d, &origin))),
        );
    }
    g.finish();
    c.bench_function("build_scanner", |b| b.iter(|| black_box(Scanner::new())));
}

criterion_group!(benches, bench);
criterion_main!(benches);
