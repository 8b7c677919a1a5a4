#!/usr/bin/env bash
# Throughput and peak RSS of scanning big binary files (issue 10): 1 GiB of random bytes
# and 1 GiB of zeros, each with four NUL-framed service-account JWTs, mapped (default) and
# read (--no-mmap). Median of RUNS (default 3) of
# `leakscan scan FILE --format json -o /dev/null` under /usr/bin/time -v.
#
#   bash benches/bench_binary.sh
set -euo pipefail
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/tmp/leakscan-bench}
REPO=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >&2
mkdir -p "$BENCH_DIR"
TOKEN=$(grep -o 'eyJ[A-Za-z0-9_.-]*' "$REPO/testdata/env/app.env" | head -1)
for kind in random zeros; do
    f=$BENCH_DIR/binary-$kind-1g.bin
    [ -f "$f" ] && continue
    python3 - "$f" "$kind" "$TOKEN" <<'PY'
import os, sys
path, kind, tok = sys.argv[1], sys.argv[2], sys.argv[3].encode()
with open(path, "wb") as out:
    for i in range(64):
        chunk = bytearray(os.urandom(16 << 20) if kind == "random" else bytes(16 << 20))
        if i % 16 == 5:
            chunk[1000:1002 + len(tok)] = b"\0" + tok + b"\0"
        out.write(chunk)
PY
done
cargo build --release -q -p scanner-cli --manifest-path "$REPO/Cargo.toml"
BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/leakscan
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for kind in random zeros; do
    f=$BENCH_DIR/binary-$kind-1g.bin
    for mode in mmap no-mmap; do
        flag=(); [ "$mode" = no-mmap ] && flag=(--no-mmap)
        walls=(); rss=()
        for _ in $(seq "$RUNS"); do
            out=$( { /usr/bin/time -v "$BIN" scan "${flag[@]}" "$f" --format json -o /dev/null; } 2>&1 || true)
            walls+=("$(echo "$out" | awk -F': ' '/Elapsed \(wall/ {split($2,t,":"); print t[1]*60+t[2]}')")
            rss+=("$(echo "$out" | awk -F': ' '/Maximum resident/ {print $2}')")
        done
        w=$(printf '%s\n' "${walls[@]}" | median)
        r=$(printf '%s\n' "${rss[@]}" | median)
        awk -v k="$kind" -v m="$mode" -v w="$w" -v r="$r" \
            'BEGIN {printf "%-7s %-8s %6.2f s  %7.0f MB/s  %4.0f MB RSS\n", k, m, w, 1073.741824/w, r/1024}'
    done
done
