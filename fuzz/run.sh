#!/usr/bin/env bash
# Runs leakscan's fuzz targets (cargo fuzz, libFuzzer) for a set time each. The corpus of
# every target lives in fuzz/corpus/TARGET and is kept, so each run continues where the
# last one stopped; crashes land in fuzz/artifacts/TARGET. Seeds (the repository's
# testdata, small real archives, a real loose object) are added to a target's corpus on
# its first run. Prints executions, corpus size and crashes per target.
#
#   bash fuzz/run.sh                  # every target, 600 s each
#   SECONDS_PER_TARGET=60 bash fuzz/run.sh scan_bytes archive
#   JOBS=2 bash fuzz/run.sh           # two fuzzing processes per target
set -euo pipefail
cd "$(dirname "$0")"
SECS=${SECONDS_PER_TARGET:-600}
JOBS=${JOBS:-1}
ALL=(scan_bytes decoders jwt_claims kube_rules archive slack config git_objects)
TARGETS=("${@:-${ALL[@]}}")
[ $# -gt 0 ] || TARGETS=("${ALL[@]}")

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
# libFuzzer needs nightly flags: a nightly toolchain if there is one, else stable told to
# accept them (the only toolchain on a fresh machine).
if cargo +nightly --version >/dev/null 2>&1; then TC=(+nightly); else TC=(); export RUSTC_BOOTSTRAP=1; fi

seed() {  # seed TARGET: fills an empty corpus directory
    local t=$1 dir=corpus/$1
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || return 0
    case $t in
    scan_bytes|kube_rules|decoders)
        find ../testdata -type f -size -64k ! -path '*/slack-export/*' -exec cp {} "$dir"/ \; ;;
    config)
        cp ../testdata/config/*.toml "$dir"/
        [ -f ../../shared/thirdparty/gitleaks-default.toml ] && cp ../../shared/thirdparty/gitleaks-default.toml "$dir"/ || true ;;
    slack)
        cp ../testdata/slack-export/*/*.json "$dir"/ ;;
    jwt_claims|archive|git_objects)
        python3 - "$t" "$dir" <<'PY'
import gzip, io, json, sys, tarfile, zipfile, zlib
t, d = sys.argv[1], sys.argv[2]
kube = b"users:\n- name: ops\n  user:\n    token: 8d4f1c7a9e2b6f3d0a5c8e1b7f4d2a9c\n"
if t == "jwt_claims":
    h = json.dumps({"alg": "RS256", "kid": "k1"}).encode()
    for claims in [
        {"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/namespace": "ci",
         "kubernetes.io/serviceaccount/secret.name": "ci-token", "sub": "system:serviceaccount:ci:b"},
        {"aud": ["https://kubernetes.default.svc"], "exp": 1800000000, "iat": 1700000000,
         "iss": "https://kubernetes.default.svc", "sub": "system:serviceaccount:ci:b",
         "kubernetes.io": {"namespace": "ci", "pod": {"name": "p", "uid": "u"},
                           "serviceaccount": {"name": "b", "uid": "u"}}},
        {"sub": "1234567890", "name": "John Doe", "iat": 1516239022}]:
        open(f"{d}/{claims['sub'][:8]}", "wb").write(h + b"\xff" + json.dumps(claims).encode())
elif t == "archive":
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        f.writestr(".kube/config", kube)
    open(f"{d}/seed.zip", "wb").write(z.getvalue())
    tr = io.BytesIO()
    with tarfile.open(fileobj=tr, mode="w") as f:
        info = tarfile.TarInfo("etc/kubernetes/admin.conf"); info.size = len(kube)
        f.addfile(info, io.BytesIO(kube))
    open(f"{d}/seed.tar", "wb").write(tr.getvalue())
    open(f"{d}/seed.tar.gz", "wb").write(gzip.compress(tr.getvalue()))
    open(f"{d}/seed.gz", "wb").write(gzip.compress(kube))
    open(f"{d}/seed.utf16", "wb").write(b"\xff\xfe" + kube.decode().encode("utf-16-le"))
else:
    body = b"KUBE_TOKEN=x\n"
    open(f"{d}/blob", "wb").write(zlib.compress(b"blob %d\0" % len(body) + body))
    open(f"{d}/kube", "wb").write(zlib.compress(b"blob %d\0" % len(kube) + kube))
PY
        ;;
    esac
}

mkdir -p logs
printf '%-12s %12s %8s %8s %8s\n' target execs exec/s corpus crashes
for t in "${TARGETS[@]}"; do
    seed "$t"
    log=logs/$t.log
    # -timeout: a single input running longer than 10 s is reported as a hang (a crash).
    # git_objects: libgit2's per-thread error state and rayon's workers are still alive at
    # exit, which LeakSanitizer reports as a leak of every run; leaks are not checked there.
    extra=()
    [ "$t" = git_objects ] && extra=(-detect_leaks=0)
    # config: each input compiles a whole rule set; gitleaks-sized inputs ran at 4 exec/s.
    [ "$t" = config ] && extra=(-max_len=8192)
    cargo "${TC[@]}" fuzz run -O "$t" "corpus/$t" -- "${extra[@]}" \
        -max_total_time="$SECS" -timeout=10 -rss_limit_mb=4096 -jobs="$JOBS" -workers="$JOBS" \
        -print_final_stats=1 >"$log" 2>&1 || true
    execs=$(grep -h 'stat::number_of_executed_units' "$log" fuzz-*.log 2>/dev/null | awk '{s+=$2} END {print s+0}')
    rate=$(grep -h 'stat::average_exec_per_sec' "$log" fuzz-*.log 2>/dev/null | awk '{s+=$2} END {print s+0}')
    rm -f fuzz-*.log
    crashes=$(ls "artifacts/$t" 2>/dev/null | grep -c -E '^(crash|timeout|oom|leak)-' || true)
    printf '%-12s %12s %8s %8s %8s\n' "$t" "$execs" "$rate" "$(ls "corpus/$t" | wc -l)" "$crashes"
done
