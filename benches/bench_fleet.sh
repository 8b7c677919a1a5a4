#!/usr/bin/env bash
# Fleet benchmark (issue 13): repositories per minute and peak RSS of `leakscan git` over a
# generated organisation of N (default 200) bare repositories of mixed sizes, built with
# `git fast-import` (history: small 3 commits / 8 files, medium 30 / 60, large 150 / 300;
# text-like content; a legacy service-account token in every 10th repository and one token
# shared by three), for
#   (a) one process over all of them: `leakscan git --repos repos.txt -f json`;
#   (b) 4 shards `--shard I/4` run one after another, each writing its JSON report, then
#       `leakscan merge` of the four;
#   (c), (d) the same with every entry a file:// clone URL (clone, scan, remove);
# and the per-repository overhead of a shard: a fleet of M (default 200) one-commit
# repositories, (T(M) - T(1)) / (M - 1), for paths and for file:// URLs, beside what
# `git clone --bare` of the same repositories costs on its own.
# Reports and merges go to /dev/null (the shard reports (b, d) to files, which merge
# reads); warm cache; median and min-max of RUNS (default 5) runs; peak RSS is the largest
# of any process of a run (/usr/bin/time -v). Nothing here is a pass/fail test.
#
#   flock -x /work/notes/cpu.lock bash benches/bench_fleet.sh [LEAKSCAN_BIN]
#   N=400 M=100 RUNS=3 bash benches/bench_fleet.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/target/release/leakscan}
N=${N:-200}
M=${M:-200}
RUNS=${RUNS:-5}
BENCH_DIR=${BENCH_DIR:-/tmp/leakscan-bench}
FLEET=$BENCH_DIR/fleet-$N
TINY=$BENCH_DIR/fleet-tiny-$M
WORK=$(mktemp -d /tmp/bench_fleet.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >&2
if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --release -p scanner-cli >&2)
fi
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

# make_fleet DIR COUNT MODE: COUNT bare repositories DIR/svc-NNN.git (MODE mixed or tiny),
# kept between runs of the script (delete DIR to rebuild).
make_fleet() {
  [ -f "$1/.complete" ] && return 0
  rm -rf "$1" && mkdir -p "$1"
  python3 - "$1" "$2" "$3" <<'PY'
import base64, json, random, subprocess, sys
root, count, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(13)
WORDS = ("service deploy config value replicas image port timeout retry cache queue worker "
         "handler request response metrics alert region cluster namespace volume secret "
         "ingress route backend frontend version build release test fixture").split()
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def legacy(ns, sa, secret):
    claims = {"iss": "kubernetes/serviceaccount",
              "kubernetes.io/serviceaccount/namespace": ns,
              "kubernetes.io/serviceaccount/secret.name": secret,
              "kubernetes.io/serviceaccount/service-account.name": sa,
              "kubernetes.io/serviceaccount/service-account.uid": "6c4a1a3e-2d4b-4f37-9d2a-%012x" % rnd.getrandbits(48),
              "sub": f"system:serviceaccount:{ns}:{sa}"}
    return ".".join([b64(b'{"alg":"RS256","kid":""}'),
                     b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()),
                     b64(rnd.randbytes(256))])
def text(size):
    out, n = [], 0
    while n < size:
        line = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(4, 12))) + f" = {rnd.getrandbits(24)}\n"
        out.append(line); n += len(line)
    return "".join(out)
shared = legacy("platform", "deployer", "deployer-token-shared")
for i in range(count):
    if mode == "tiny":
        commits, files, size, per = 1, 1, 200, 1
    elif i % 20 == 0:
        commits, files, size, per = 150, 300, 8000, 10
    elif i % 4 == 0:
        commits, files, size, per = 30, 60, 4000, 5
    else:
        commits, files, size, per = 3, 8, 1000, 2
    path = f"{root}/svc-{i:03d}.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", path], check=True)
    stream = []
    def blob(p, content):
        data = content.encode()
        stream.append(b"M 100644 inline %s\ndata %d\n%s\n" % (p.encode(), len(data), data))
    for c in range(commits):
        t = 1_700_000_000 + 3600 * c
        msg = f"change {c}".encode()
        stream.append(b"commit refs/heads/main\nauthor Dev <dev@example.com> %d +0000\n"
                      b"committer Dev <dev@example.com> %d +0000\ndata %d\n%s\n" % (t, t, len(msg), msg))
        names = range(files) if c == 0 else rnd.sample(range(files), min(per, files))
        for f in names:
            blob(f"src/mod{f % 10}/file{f}.txt", text(size))
        if mode != "tiny" and c == commits // 2:
            if i % 10 == 0:
                blob("deploy/ci.env", f"KUBE_TOKEN={legacy(f'team-{i}', 'ci', f'ci-token-{i:05d}')}\n")
            if i in (3, 17, 40):
                blob("deploy/shared.env", f"export KUBE_TOKEN={shared}\n")
    subprocess.run(["git", "fast-import", "--quiet"], input=b"".join(stream), check=True,
                   env={"GIT_DIR": path, "PATH": "/usr/local/bin:/usr/bin:/bin",
                        "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"})
PY
  touch "$1/.complete"
}
started=$(date +%s.%N)
make_fleet "$FLEET" "$N" mixed
make_fleet "$TINY" "$M" tiny
built=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
# lists: paths and file:// URLs
ls -d "$FLEET"/svc-*.git >"$WORK/repos.txt"
sed 's|^|file://|' "$WORK/repos.txt" >"$WORK/urls.txt"
ls -d "$TINY"/svc-*.git >"$WORK/tiny.txt"
sed 's|^|file://|' "$WORK/tiny.txt" >"$WORK/tiny-urls.txt"
head -n 1 "$WORK/tiny.txt" >"$WORK/tiny1.txt"
head -n 1 "$WORK/tiny-urls.txt" >"$WORK/tiny1-urls.txt"
read -r blobs bytes < <(for r in $(cat "$WORK/repos.txt"); do
  git --git-dir="$r" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)'
done | awk '$1 == "blob" { n++; s += $2 } END { printf "%d %.0f\n", n, s }')
commits=$(for r in $(cat "$WORK/repos.txt"); do git --git-dir="$r" rev-list --all --count; done | awk '{ s += $1 } END { print s }')
echo "fleet: $N repositories ($commits commits, $blobs blobs, $((bytes / 1048576)) MiB of blobs; $(du -sm "$FLEET" | cut -f1) MiB on disk) + $M one-commit repositories; built or reused in ${built}s"
echo "machine: $(nproc) cores; $("$BIN" --version); RUNS=$RUNS"
echo

# run LABEL REPOS CMD...: RUNS runs of CMD (stdout to /dev/null); the median wall time,
# min-max, repositories per minute at the median (REPOS repositories), the largest peak RSS.
# Sets MEDIAN (seconds).
run() {
  local label=$1 repos=$2
  shift 2
  local rows="" status
  for _ in $(seq 1 "$RUNS"); do
    status=0
    # Wall time from the clock (time -v rounds to 10 ms), peak RSS from time -v.
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$WORK/t" "$@" >/dev/null 2>"$WORK/last.err" || status=$?
    t1=$(date +%s%N)
    rows+=$(awk -F': ' -v st="$status" -v ns="$((t1 - t0))" '
      /Maximum resident set size/ { r = $2 / 1024 }
      END { printf "%.4f %.0f %s", ns / 1e9, r, st }' "$WORK/t")$'\n'
  done
  local sorted lo hi rss
  sorted=$(printf '%s' "$rows" | sort -n)
  read -r MEDIAN _ status < <(printf '%s\n' "$sorted" | awk -v n="$RUNS" 'NR == int((n + 1) / 2)')
  lo=$(printf '%s\n' "$sorted" | head -n 1 | cut -d' ' -f1)
  hi=$(printf '%s\n' "$sorted" | tail -n 1 | cut -d' ' -f1)
  rss=$(printf '%s\n' "$sorted" | awk 'm < $2 { m = $2 } END { print m }')
  printf '%-52s %7.3f s (%.3f-%.3f) %7.0f repos/min %6s MB peak RSS (exit %s)\n' "$label" \
    "$MEDIAN" "$lo" "$hi" "$(awk -v n="$repos" -v w="$MEDIAN" 'BEGIN { print (w > 0 ? n * 60 / w : 0) }')" \
    "$rss" "$status"
}
# shards LIST: 4 shards one after another, then the merge (stdout to /dev/null).
cat >"$WORK/shards.sh" <<'SH'
set -e
bin=$1 list=$2 out=$3
for i in 0 1 2 3; do
  "$bin" git --repos "$list" --shard "$i/4" -f json -o "$out/shard-$i.json" --no-progress -q || [ $? = 1 ]
done
"$bin" merge "$out"/shard-[0-3].json -f json -q || [ $? = 1 ]
SH
one() { "$BIN" git --repos "$1" -f json --no-progress -q; }
export -f one
export BIN

# Warm the page cache (every object read once) and the binary.
for r in $(cat "$WORK/repos.txt" "$WORK/tiny.txt"); do
  git --git-dir="$r" cat-file --batch-all-objects --batch --unordered >/dev/null
done
one "$WORK/tiny1.txt" >/dev/null || true

echo "== $N repositories of mixed sizes"
run "(a) one process, --repos (paths)" "$N" bash -c 'one "$0"' "$WORK/repos.txt"
a=$MEDIAN
run "(b) 4 shards one after another + merge (paths)" "$N" bash "$WORK/shards.sh" "$BIN" "$WORK/repos.txt" "$WORK"
b=$MEDIAN
run "(c) one process, --repos (file:// URLs)" "$N" bash -c 'one "$0"' "$WORK/urls.txt"
c=$MEDIAN
run "(d) 4 shards + merge (file:// URLs)" "$N" bash "$WORK/shards.sh" "$BIN" "$WORK/urls.txt" "$WORK"
d=$MEDIAN
run "    merge of the 4 shard reports alone" "$N" "$BIN" merge "$WORK"/shard-0.json "$WORK"/shard-1.json \
  "$WORK"/shard-2.json "$WORK"/shard-3.json -f json -q
printf '    sharding cost (b - a) / N: %.2f ms/repo (paths), (d - c) / N: %.2f ms/repo (URLs)\n' \
  "$(awk -v x="$b" -v y="$a" -v n="$N" 'BEGIN { print (x - y) * 1000 / n }')" \
  "$(awk -v x="$d" -v y="$c" -v n="$N" 'BEGIN { print (x - y) * 1000 / n }')"
findings=$({ "$BIN" merge "$WORK"/shard-[0-3].json -f json -q 2>/dev/null || true; } | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["findings"]), "findings,", d["stats"]["credentials"], "credentials,", len(d["errors"]), "errors")')
echo "    merged report: $findings"

echo
echo "== per-repository overhead: $M one-commit repositories (one 200-byte file each)"
run "one process, 1 repository (path)" 1 bash -c 'one "$0"' "$WORK/tiny1.txt"
t1=$MEDIAN
run "one process, $M repositories (paths)" "$M" bash -c 'one "$0"' "$WORK/tiny.txt"
tm=$MEDIAN
run "one process, 1 repository (file:// URL)" 1 bash -c 'one "$0"' "$WORK/tiny1-urls.txt"
u1=$MEDIAN
run "one process, $M repositories (file:// URLs)" "$M" bash -c 'one "$0"' "$WORK/tiny-urls.txt"
um=$MEDIAN
cat >"$WORK/clones.sh" <<'SH'
set -e
list=$1 dir=$2
while read -r u; do
  rm -rf "$dir/c" && git clone --bare --quiet "$u" "$dir/c"
done <"$list"
rm -rf "$dir/c"
SH
run "git clone --bare of the $M, alone (a loop)" "$M" bash "$WORK/clones.sh" "$WORK/tiny-urls.txt" "$WORK"
gc=$MEDIAN
printf '    per repository: %.2f ms (paths: open, refs, walk, scanner) ; %.2f ms with a file:// clone, of which git clone %.2f ms => %.2f ms beyond the clone\n' \
  "$(awk -v m="$tm" -v o="$t1" -v n="$M" 'BEGIN { print (m - o) * 1000 / (n - 1) }')" \
  "$(awk -v m="$um" -v o="$u1" -v n="$M" 'BEGIN { print (m - o) * 1000 / (n - 1) }')" \
  "$(awk -v g="$gc" -v n="$M" 'BEGIN { print g * 1000 / n }')" \
  "$(awk -v m="$um" -v o="$u1" -v g="$gc" -v n="$M" 'BEGIN { print ((m - o) / (n - 1) - g / n) * 1000 }')"
