#!/usr/bin/env bash
# Peak memory of the report as findings pile up: N service-account tokens (default
# 1,000,000), reported as JSON, SARIF and text into /dev/null; prints wall time and peak
# RSS (/usr/bin/time -v) per format. Findings are spooled to an anonymous temporary file
# and only their sort keys stay in memory, so RSS must stay far below the findings' size.
#
#   bash benches/bench_findings.sh
#   N=200000 bash benches/bench_findings.sh
set -euo pipefail
N=${N:-1000000}
BENCH_DIR=${BENCH_DIR:-/tmp/leakscan-bench}
REPO=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >&2
mkdir -p "$BENCH_DIR"
# FILES files of N/FILES log lines, each with a distinct service-account JWT (ES256-sized
# signature; structure is all the scanner checks), so the figure is the report's memory,
# not one huge input's.
FILES=${FILES:-1000}
F=$BENCH_DIR/findings-$N
if [ ! -f "$F/.done" ]; then
    mkdir -p "$F"
    python3 - "$F" "$N" "$FILES" <<'PY'
import base64, json, os, sys
d, n, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "ES256", "kid": "k1"}).encode())
per = n // files
for f in range(files):
    with open(os.path.join(d, f"app-{f:04d}.log"), "w") as out:
        for i in range(per):
            k = f * per + i
            claims = {"iss": "kubernetes/serviceaccount",
                      "kubernetes.io/serviceaccount/namespace": "ci",
                      "kubernetes.io/serviceaccount/secret.name": f"builder-token-{k:07d}",
                      "kubernetes.io/serviceaccount/service-account.name": "builder",
                      "sub": "system:serviceaccount:ci:builder"}
            sig = b64(k.to_bytes(8, "big") * 8)
            out.write(f"2026-12-01T10:00:00Z DEBUG Authorization: Bearer {head}.{b64(json.dumps(claims).encode())}.{sig}\n")
open(os.path.join(d, ".done"), "w").close()
PY
fi
cargo build --release -q -p scanner-cli --manifest-path "$REPO/Cargo.toml"
BIN=$REPO/target/release/leakscan
printf '%-6s %10s %10s %12s\n' format findings wall_s peak_rss_mb
for fmt in json sarif text jsonl; do
    /usr/bin/time -v "$BIN" scan --no-progress -q -f "$fmt" "$F" >/dev/null 2>"$BENCH_DIR/time.txt" || true
    rss=$(awk -F: '/Maximum resident/ {print int($2/1024)}' "$BENCH_DIR/time.txt")
    wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$BENCH_DIR/time.txt")
    printf '%-6s %10s %10s %12s\n' "$fmt" "$N" "$wall" "$rss"
done
