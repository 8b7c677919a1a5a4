#!/usr/bin/env bash
# History-scan benchmark: leakscan beside `git cat-file` (git inflating every object once,
# single-threaded) and Kingfisher, on one repository, every tool's output to /dev/null, warm
# cache, median and spread of RUNS (5) runs; leakscan's phase split (walk / read+inflate /
# scan) from its -v line; plus `leakscan git --staged` on a small change in a generated
# 10k-file repository.
#
#   bash benches/bench_history.sh REPO [LEAKSCAN_BIN]
#
# REPO is a clone or a bare git directory (a partial mirror works for leakscan: its missing
# blobs are warnings). For the side-by-side figures use a complete repository, e.g. one made
# by ../shared/bench/make_history_corpus.sh. LEAKSCAN_BIN defaults to target/release/leakscan
# (built first if missing). Kingfisher (`pip install kingfisher-bin`) is skipped when absent;
# it runs with --no-validate --no-update-check, inside `unshare -n` (no network) when possible.
# Nothing here is a pass/fail test; it prints a table.
set -euo pipefail

REPO=${1:?usage: bench_history.sh REPO [LEAKSCAN_BIN]}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${2:-$ROOT/target/release/leakscan}
THREADS=${THREADS:-$(nproc)}
WORK=$(mktemp -d /tmp/bench_history.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --release -p scanner-cli >&2)
fi
GIT=(git --git-dir="$(git -C "$REPO" rev-parse --absolute-git-dir)")

# --- what is being scanned -------------------------------------------------------------
commits=$("${GIT[@]}" rev-list --all --count)
read -r blobs bytes < <("${GIT[@]}" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' |
  awk '$1 == "blob" { n++; s += $2 } END { printf "%d %.0f\n", n, s }')
echo "repository: $REPO"
echo "HEAD: $("${GIT[@]}" rev-parse HEAD 2>/dev/null || echo none)   commits (all refs): $commits   blobs: $blobs   blob bytes: $bytes ($((bytes / 1048576)) MiB)"
echo "machine: $(nproc) cores; leakscan threads: $THREADS; $("$BIN" version)"
echo

# run LABEL CMD...: $RUNS runs (default 5) with stdout to /dev/null — every tool's output,
# so no tool pays for writing gigabytes that another does not (an earlier version of this
# script wrote git cat-file's 2.4 GiB to a file and made git look 2.6x slower than it is).
# Prints the median wall time with the min-max spread, the median run's CPU seconds and the
# largest peak RSS (/usr/bin/time -v); stderr of the last run is kept in $WORK/LABEL.err.
RUNS=${RUNS:-5}
run() {
  local label=$1
  shift
  local rows="" status
  for _ in $(seq 1 "$RUNS"); do
    status=0
    /usr/bin/time -v -o "$WORK/t" "$@" >/dev/null 2>"$WORK/$label.err" || status=$?
    rows+=$(awk -F': ' -v st="$status" '
      /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
      /User time/ { u = $2 } /System time/ { s = $2 }
      /Maximum resident set size/ { r = $2 / 1024 }
      END { printf "%.3f %.2f %.0f %s", w, u + s, r, st }' "$WORK/t")$'\n'
  done
  local sorted median
  sorted=$(printf '%s' "$rows" | sort -n)
  median=$(printf '%s\n' "$sorted" | awk -v n="$RUNS" 'NR == int((n + 1) / 2)')
  read -r wall cpu _ status <<<"$median"
  local lo hi rss
  lo=$(printf '%s\n' "$sorted" | head -n 1 | cut -d' ' -f1)
  hi=$(printf '%s\n' "$sorted" | tail -n 1 | cut -d' ' -f1)
  rss=$(printf '%s\n' "$sorted" | awk 'm < $3 { m = $3 } END { print m }')
  printf '%-36s %7.2f s wall (%.2f-%.2f) %7.2f s CPU %8.1f MB/s %6s MB peak RSS  (exit %s)\n' "$label" \
    "$wall" "$lo" "$hi" "$cpu" "$(awk -v b="$bytes" -v w="$wall" 'BEGIN { print (w > 0 ? b / 1e6 / w : 0) }')" \
    "$rss" "$status"
}

# Warm the page cache so the first tool does not pay for the disk.
"${GIT[@]}" cat-file --batch-all-objects --batch --unordered >/dev/null

run "git cat-file --batch-all-objects" "${GIT[@]}" cat-file --batch-all-objects --batch --unordered
leakscan_row() {
  local label=$1 bin=$2
  run "$label" "$bin" git "$REPO" --format jsonl --no-progress --threads "$THREADS" -v
  echo "    $(grep '^leakscan: phases:' "$WORK/$label.err")"
  echo "    $(grep '^leakscan: [0-9]' "$WORK/$label.err" | tail -n 1)"
  echo "    warnings: $(grep -c 'warning' "$WORK/$label.err" || true) ($(grep -o '([a-z-]*)$' "$WORK/$label.err" | sort | uniq -c | tr -s ' \n' ' '))"
}
leakscan_row "leakscan git" "$BIN"
# The opt-in zlib-ng build (needs cmake): ZLIB_NG=1.
if [ "${ZLIB_NG:-0}" = 1 ]; then
  (cd "$ROOT" && cargo build --release -p scanner-cli --features zlib-ng >&2)
  cp "$ROOT/target/release/leakscan" "$WORK/leakscan-zlib-ng"
  leakscan_row "leakscan git (--features zlib-ng)" "$WORK/leakscan-zlib-ng"
  (cd "$ROOT" && cargo build --release -p scanner-cli >&2) # put the default build back
fi

if command -v kingfisher >/dev/null; then
  NET=()
  if unshare -n true 2>/dev/null; then NET=(unshare -n); fi
  run "kingfisher scan --no-validate" "${NET[@]}" kingfisher scan "$REPO" --no-validate --no-update-check \
    --format json --jobs "$THREADS"
  # Its findings, counted from one more (untimed) run.
  "${NET[@]}" kingfisher scan "$REPO" --no-validate --no-update-check --format json --jobs "$THREADS" \
    >"$WORK/kingfisher.json" 2>/dev/null || true
  echo "    $(kingfisher --version 2>/dev/null): $(grep -o '"rule_id"\|"rule":' "$WORK/kingfisher.json" 2>/dev/null | wc -l) findings (exit 200 = findings)"
else
  echo "kingfisher: not installed (python3 -m pip install kingfisher-bin)"
fi

# --- --staged on a small change in a 10k-file repository -------------------------------
echo
S="$WORK/staged-repo"
mkdir -p "$S"
(
  cd "$S"
  export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
  export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
  export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
  git init -q -b main
  for d in $(seq 0 99); do
    mkdir -p "src/mod$d"
    for f in $(seq 0 99); do
      printf 'package mod%d\n\n// file %d of module %d\nfunc F%d() int { return %d }\n' "$d" "$f" "$d" "$f" "$f" >"src/mod$d/file$f.go"
    done
  done
  git add -A && git commit -q -m "10k files"
  printf '\n// a small change\n' >>src/mod42/file7.go
  printf 'package mod7\n\nconst x = 1\n' >src/mod7/new.go
  git add src/mod42/file7.go src/mod7/new.go
)
files=$(git -C "$S" ls-files | wc -l)
"$BIN" git "$S" --staged --format jsonl --no-progress -q >/dev/null # warm up
times=()
for _ in $(seq 1 20); do
  t0=$(date +%s%N)
  "$BIN" git "$S" --staged --format jsonl --no-progress -q >/dev/null || true
  t1=$(date +%s%N)
  times+=($(((t1 - t0) / 1000)))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n 10p)
worst=$(echo "$sorted" | tail -n 1)
/usr/bin/time -v -o "$WORK/t" "$BIN" git "$S" --staged --format jsonl --no-progress -q >/dev/null
echo "leakscan git --staged peak RSS: $(awk -F': ' '/Maximum resident/ { print int($2 / 1024) }' "$WORK/t") MB"
printf 'leakscan git --staged, %d-file repo, 2 files staged: median %.1f ms, worst %.1f ms of 20 runs\n' \
  "$files" "$(awk -v t="$median" 'BEGIN { print t / 1000 }')" "$(awk -v t="$worst" 'BEGIN { print t / 1000 }')"
