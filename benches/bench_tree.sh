#!/usr/bin/env bash
# Throughput of `leakscan scan` on a >= 1 GiB tree of realistic logs and manifests, and on
# one 2 GiB log file, beside `rg -uuu -c eyJ` (hidden, ignored and binary files on both sides:
# the tree holds core-dump-like binary files too) in the same run: median wall time of N runs
# with its spread, MB/s, the ratio to ripgrep, and peak RSS (/usr/bin/time -v).
#
#   bash benches/bench_tree.sh            # generates the corpus in /tmp once, then measures
#   RUNS=5 TREE_GIB=2 bash benches/bench_tree.sh
#   LEAKSCAN=/path/to/leakscan bash benches/bench_tree.sh   # a given build instead
#
# The corpus lives in $BENCH_DIR (default /tmp/leakscan-bench), never in the repository.
set -euo pipefail

RUNS=${RUNS:-3}
TREE_GIB=${TREE_GIB:-1.1}
BIG_GIB=${BIG_GIB:-2}
BENCH_DIR=${BENCH_DIR:-/tmp/leakscan-bench}
REPO=$(cd "$(dirname "$0")/.." && pwd)
TREE=$BENCH_DIR/tree
BIG=$BENCH_DIR/big.log

need() { command -v "$1" >/dev/null 2>&1; }
if ! need rg; then
    echo "installing ripgrep (cargo install ripgrep)" >&2
    cargo install ripgrep >&2
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if [ ! -x /usr/bin/time ]; then
    echo "installing GNU time (apt-get install time)" >&2
    (apt-get update -qq && apt-get install -y -qq time) >&2
fi

generate() {
    python3 - "$TREE" "$BIG" "$TREE_GIB" "$BIG_GIB" <<'PY'
import base64, json, os, random, sys
tree, big, tree_gib, big_gib = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
rnd = random.Random(42)

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def token(i):
    # Shaped like a legacy service-account token (the signature is random: unverified).
    h = b64u(json.dumps({"alg": "RS256", "kid": ""}).encode())
    c = b64u(json.dumps({
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": "ci",
        "kubernetes.io/serviceaccount/secret.name": f"deployer-token-{i:05d}",
        "kubernetes.io/serviceaccount/service-account.name": "deployer",
        "kubernetes.io/serviceaccount/service-account.uid": "6b5c3e2a-1f4d-4c8e-9a7b-0d2e4f6a8c1e",
        "sub": "system:serviceaccount:ci:deployer"}).encode())
    return f"{h}.{c}.{b64u(rnd.randbytes(256))}"

services = ["api", "billing", "auth", "search", "worker", "gateway", "scheduler"]
levels = ["INFO"] * 12 + ["DEBUG"] * 5 + ["WARN"] * 2 + ["ERROR"]
paths = ["/v1/orders", "/v1/users/me", "/healthz", "/metrics", "/v2/search?q=shoes", "/login"]

def app_line(n):
    s = rnd.choice(services)
    return (f"2024-05-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:{(n * 7) % 60:02d}.{n % 1000:03d}Z "
            f"{rnd.choice(levels)} [{s}-{n % 7}] request_id={rnd.getrandbits(64):016x} "
            f"method=GET path={rnd.choice(paths)} status={rnd.choice([200, 200, 200, 201, 404, 500])} "
            f"duration_ms={rnd.randint(1, 900)} user_agent=\"Mozilla/5.0 (X11; Linux x86_64)\"\n")

def audit_line(n):
    return json.dumps({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": f"{rnd.getrandbits(128):032x}", "stage": "ResponseComplete",
        "requestURI": f"/api/v1/namespaces/team-{n % 40}/pods?limit=500", "verb": "list",
        "user": {"username": f"system:serviceaccount:team-{n % 40}:runner", "groups": ["system:serviceaccounts"]},
        "sourceIPs": [f"10.{n % 250}.{(n * 3) % 250}.{(n * 7) % 250}"],
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": f"2024-05-01T10:{n % 60:02d}:00.000000Z"}) + "\n"

def manifest(n):
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{n}
  namespace: team-{n % 40}
  labels:
    app.kubernetes.io/name: svc-{n}
spec:
  replicas: {1 + n % 5}
  selector:
    matchLabels:
      app.kubernetes.io/name: svc-{n}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: svc-{n}
    spec:
      serviceAccountName: svc-{n}
      containers:
      - name: app
        image: registry.example.com/team-{n % 40}/svc-{n}:1.{n % 30}.0
        ports:
        - containerPort: 8080
        env:
        - name: LOG_LEVEL
          value: info
        resources:
          limits: {{cpu: 500m, memory: 256Mi}}
---
"""

# A pool of lines; files are slices of it, so generation is fast and text stays varied.
pool = [app_line(n) if n % 5 else audit_line(n) for n in range(200_000)]
pool_text = "".join(pool).encode()
tokens = 0

def log_bytes(size, seed):
    global tokens
    out = bytearray()
    r = random.Random(seed)
    while len(out) < size:
        start = r.randrange(len(pool_text) - 4_000_000)
        start = pool_text.index(b"\n", start) + 1
        out += pool_text[start:start + min(size - len(out), 4_000_000)]
        if r.random() < 0.05:
            out += f"DEBUG exec kubectl --token={token(tokens)} get pods\n".encode()
            tokens += 1
    return bytes(out[:size])

os.makedirs(tree, exist_ok=True)
target = int(tree_gib * (1 << 30))
written, i = 0, 0
while written < target:
    d = os.path.join(tree, f"logs/node-{i % 16:02d}")
    os.makedirs(d, exist_ok=True)
    size = rnd.choice([64 << 10, 512 << 10, 2 << 20, 8 << 20, 24 << 20])
    with open(os.path.join(d, f"app-{i:05d}.log"), "wb") as f:
        f.write(log_bytes(size, i))
    written += size
    if i % 2 == 0:
        md = os.path.join(tree, f"manifests/team-{i % 40}")
        os.makedirs(md, exist_ok=True)
        text = "".join(manifest(i * 10 + k) for k in range(10)).encode()
        with open(os.path.join(md, f"deploy-{i:05d}.yaml"), "wb") as f:
            f.write(text)
        written += len(text)
    i += 1
# Core dumps and database files: binary pages (NUL runs, random bytes) with a token now and
# then, about a tenth of the tree. Both tools search them (rg -uuu: --binary).
for k in range(max(1, int(tree_gib * 10))):
    d = os.path.join(tree, "var/crash")
    os.makedirs(d, exist_ok=True)
    out = bytearray()
    while len(out) < (100 << 20):
        page = rnd.choice([bytes(4096), rnd.randbytes(4096)])
        out += page
        if rnd.random() < 0.001:
            out += b"\0\0" + token(tokens).encode() + b"\0"
            tokens += 1
    with open(os.path.join(d, f"core.{1000 + k}"), "wb") as f:
        f.write(out)
    written += len(out)
with open(big, "wb") as f:
    chunk = 64 << 20
    for k in range(int(big_gib * (1 << 30)) // chunk):
        f.write(log_bytes(chunk, 10_000 + k))
print(f"generated {written / 1e9:.2f} GB in {i} logs (+ manifests), {tokens} tokens; {big}", file=sys.stderr)
PY
}

# v2: the tree has binary files since issue 10.
if [ ! -f "$BENCH_DIR/.complete-v2" ]; then
    rm -rf "$BENCH_DIR"
    mkdir -p "$BENCH_DIR"
    generate
    touch "$BENCH_DIR/.complete-v2"
fi

if [ -z "${LEAKSCAN:-}" ]; then
    (cd "$REPO" && cargo build --release -p scanner-cli >&2)
    LEAKSCAN=${CARGO_TARGET_DIR:-$REPO/target}/release/leakscan
fi

# Warm the page cache so every tool reads from memory, as the others do after it.
cat "$BIG" >/dev/null
find "$TREE" -type f -exec cat {} + >/dev/null

TREE_BYTES=$(du -sb "$TREE" | cut -f1)
BIG_BYTES=$(stat -c %s "$BIG")

# measure NAME BYTES CMD...: median wall of $RUNS runs (and min-max), the median run's CPU
# seconds and the largest peak RSS.
measure() {
    local name=$1 bytes=$2
    shift 2
    local rows="" t
    for _ in $(seq "$RUNS"); do
        t=$(mktemp)
        /usr/bin/time -v "$@" >/dev/null 2>"$t" || true
        local wall cpu_u cpu_s mem
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$t" |
            awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
        mem=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
        cpu_u=$(awk -F': ' '/User time/ {print $2}' "$t")
        cpu_s=$(awk -F': ' '/System time/ {print $2}' "$t")
        rows+="$wall $(awk "BEGIN {print $cpu_u + $cpu_s}") $mem"$'\n'
        rm -f "$t"
    done
    local sorted median cpu rss spread
    sorted=$(printf '%s' "$rows" | sort -n)
    median=$(printf '%s\n' "$sorted" | awk -v n="$RUNS" 'NR == int((n + 1) / 2) {print $1}')
    cpu=$(printf '%s\n' "$sorted" | awk -v n="$RUNS" 'NR == int((n + 1) / 2) {print $2}')
    rss=$(printf '%s\n' "$sorted" | awk 'm < $3 {m = $3} END {print m}')
    spread=$(printf '%s\n' "$sorted" | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "-" hi}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$median" "$cpu" "$rss" "$bytes" "$spread"
}

results=$(
    measure "rg -uuu -c eyJ (tree)" "$TREE_BYTES" rg -uuu -c eyJ "$TREE"
    measure "leakscan scan (tree)" "$TREE_BYTES" "$LEAKSCAN" scan -q --format json "$TREE"
    measure "rg -c eyJ (2 GiB file)" "$BIG_BYTES" rg -c eyJ "$BIG"
    measure "leakscan scan (2 GiB file)" "$BIG_BYTES" "$LEAKSCAN" scan -q --format json "$BIG"
)

echo
echo "corpus: tree $(awk "BEGIN {printf \"%.2f\", $TREE_BYTES / 1e9}") GB in $(find "$TREE" -type f | wc -l) files; single file $(awk "BEGIN {printf \"%.2f\", $BIG_BYTES / 1e9}") GB; $(nproc) cores; median of $RUNS"
printf '| %-28s | %8s | %13s | %8s | %9s | %10s | %8s |\n' tool wall "wall min-max" CPU MB/s "peak RSS" "vs rg"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ------------------------------ ---------- --------------- ---------- ----------- ------------ ----------
rg_tree=$(echo "$results" | awk -F'\t' 'NR == 1 {print $2}')
rg_big=$(echo "$results" | awk -F'\t' 'NR == 3 {print $2}')
echo "$results" | while IFS=$'\t' read -r name wall cpu rss bytes spread; do
    case $name in *tree*) base=$rg_tree ;; *) base=$rg_big ;; esac
    awk -v n="$name" -v w="$wall" -v s="$spread" -v c="$cpu" -v r="$rss" -v b="$bytes" -v base="$base" 'BEGIN {
        printf "| %-28s | %7.2fs | %13s | %7.2fs | %9.0f | %7.0f MB | %7.2fx |\n", n, w, s, c, b / 1e6 / (w > 0 ? w : 0.001), r / 1024, w / (base > 0 ? base : 0.001)
    }'
done
