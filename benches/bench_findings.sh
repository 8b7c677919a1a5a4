#!/usr/bin/env bash
# Peak memory of the report as findings pile up: N kubeconfig tokens in one file (default
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
F=$BENCH_DIR/findings-$N/kubeconfig
if [ ! -f "$F" ]; then
    mkdir -p "$(dirname "$F")"
    python3 - "$F" "$N" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("apiVersion: v1\nkind: Config\nusers:\n")
    for i in range(n):
        f.write(f"- name: u{i}\n  user:\n    token: {i:010d}8d4f1c7a9e2b6f3d0a5c\n")
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
