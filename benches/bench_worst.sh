#!/usr/bin/env bash
# Worst-case throughput of `leakscan scan` on one thread (issue 11: no input below 100 MB/s
# on one core): ordinary text and adversarial corpora (keyword-dense YAML, base64 keyword
# look-alikes on every line, one huge line, long base64 runs, dense escapes), each timed
# RUNS times with `-j 1`; prints corpus, MB, median wall and MB/s, median CPU (user + sys)
# and MB/s per CPU second (what one core does when the machine is shared), and peak RSS.
#
#   bash benches/bench_worst.sh                 # 64 MiB corpora in /tmp, 5 runs each
#   RUNS=7 WORST_MIB=128 bash benches/bench_worst.sh
#   ONLY=ZXlK-lines,one-huge-line bash benches/bench_worst.sh
#
# The corpora are written by benches/throughput.rs (LEAKSCAN_BENCH_DUMP), so the in-process
# criterion bench and this script measure the same bytes. They live in $BENCH_DIR (default
# /tmp/leakscan-worst), never in the repository.
set -euo pipefail

RUNS=${RUNS:-5}
WORST_MIB=${WORST_MIB:-64}
BENCH_DIR=${BENCH_DIR:-/tmp/leakscan-worst}
REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=$BENCH_DIR/$WORST_MIB

if [ ! -x /usr/bin/time ]; then
    echo "installing GNU time (apt-get install time)" >&2
    (apt-get update -qq && apt-get install -y -qq time) >&2
fi

(cd "$REPO" && cargo build --release -p scanner-cli >&2)
LEAKSCAN=${CARGO_TARGET_DIR:-$REPO/target}/release/leakscan

if [ ! -f "$DIR/.complete" ]; then
    rm -rf "$DIR"
    (cd "$REPO" && LEAKSCAN_BENCH_DUMP=$DIR LEAKSCAN_BENCH_MIB=$WORST_MIB \
        cargo bench -p scanner-core --bench throughput >&2)
    touch "$DIR/.complete"
fi

# measure FILE: median wall and CPU of $RUNS runs and the largest peak RSS among them.
measure() {
    local file=$1 walls="" cpus="" rss=0 t wall mem cpu
    for _ in $(seq "$RUNS"); do
        t=$(mktemp)
        /usr/bin/time -v "$LEAKSCAN" scan -j 1 -q --format json "$file" >/dev/null 2>"$t" || true
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$t" |
            awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
        mem=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
        cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {print u + s}' "$t")
        walls="$walls $wall"
        cpus="$cpus $cpu"
        [ "$mem" -gt "$rss" ] && rss=$mem
        rm -f "$t"
    done
    printf '%s\t%s\t%s\n' "$(median $walls)" "$(median $cpus)" "$rss"
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

echo
echo "leakscan scan -j 1, median of $RUNS runs, output to /dev/null, $(nproc) cores, $(date -u +%F)"
printf '| %-22s | %6s | %9s | %8s | %8s | %9s | %9s |\n' corpus MB "wall" "MB/s" "CPU" "MB/CPU-s" "peak RSS"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ------------------------ -------- ----------- ---------- ---------- ----------- -----------
for file in "$DIR"/*.txt; do
    name=$(basename "$file" .txt)
    if [ -n "${ONLY:-}" ] && ! echo ",$ONLY," | grep -q ",$name,"; then
        continue
    fi
    bytes=$(stat -c %s "$file")
    IFS=$'\t' read -r wall cpu rss < <(measure "$file")
    awk -v n="$name" -v b="$bytes" -v w="$wall" -v c="$cpu" -v r="$rss" 'BEGIN {
        printf "| %-22s | %6.1f | %8.2fs | %8.0f | %7.2fs | %9.0f | %6.0f MB |\n", n, b / 1e6, w, b / 1e6 / (w > 0 ? w : 0.001), c, b / 1e6 / (c > 0 ? c : 0.001), r / 1024
    }'
done
