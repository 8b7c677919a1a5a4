#!/usr/bin/env bash
# History-scan benchmark: leakscan beside `git cat-file` (git inflating every object once,
# single-threaded) and Kingfisher, on one repository, plus `leakscan git --staged` on a small
# change in a generated 10k-file repository.
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
  awk '$1 == "blob" { n++; s += $2 } END { printf "%d %d\n", n, s }')
echo "repository: $REPO"
echo "HEAD: $("${GIT[@]}" rev-parse HEAD 2>/dev/null || echo none)   commits (all refs): $commits   blobs: $blobs   blob bytes: $bytes ($((bytes / 1048576)) MiB)"
echo "machine: $(nproc) cores; leakscan threads: $THREADS; $("$BIN" version)"
echo

# run LABEL CMD...: wall seconds and peak RSS from /usr/bin/time -v; output to $WORK/LABEL.*
run() {
  local label=$1
  shift
  local status=0
  /usr/bin/time -v -o "$WORK/$label.time" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || status=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$WORK/$label.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$WORK/$label.time")
  printf '%-34s %8.2f s %9.1f MB/s %7s MB peak RSS  (exit %s)\n' "$label" "$wall" \
    "$(awk -v b="$bytes" -v w="$wall" 'BEGIN { print (w > 0 ? b / 1e6 / w : 0) }')" "$rss" "$status"
}

# Warm the page cache so the first tool does not pay for the disk.
"${GIT[@]}" cat-file --batch-all-objects --batch --unordered >/dev/null

run "git cat-file --batch-all-objects" "${GIT[@]}" cat-file --batch-all-objects --batch --unordered
run "leakscan git" "$BIN" git "$REPO" --format jsonl --no-progress --threads "$THREADS"
echo "    leakscan: $(grep -c . "$WORK/leakscan git.out" || true) findings; $(tail -n 1 "$WORK/leakscan git.err")"
echo "    leakscan warnings: $(grep -c 'warning' "$WORK/leakscan git.err" || true) ($(grep -o '([a-z-]*)$' "$WORK/leakscan git.err" | sort | uniq -c | tr -s ' \n' ' '))"

if command -v kingfisher >/dev/null; then
  NET=()
  if unshare -n true 2>/dev/null; then NET=(unshare -n); fi
  run "kingfisher scan --no-validate" "${NET[@]}" kingfisher scan "$REPO" --no-validate --no-update-check \
    --format json --output "$WORK/kingfisher.json" --jobs "$THREADS"
  echo "    kingfisher ($(kingfisher --version 2>/dev/null)): exit $(tail -n 1 "$WORK/kingfisher scan --no-validate.err" | cut -c1-120)"
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
run "leakscan git --staged (10k files)" "$BIN" git "$S" --staged --format jsonl --no-progress -q
printf 'leakscan git --staged, %d-file repo, 2 files staged: median %.1f ms, worst %.1f ms of 20 runs\n' \
  "$files" "$(awk -v t="$median" 'BEGIN { print t / 1000 }')" "$(awk -v t="$worst" 'BEGIN { print t / 1000 }')"
