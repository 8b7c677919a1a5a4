#!/usr/bin/env bash
# Container image tarballs: an OCI image layout (docker >= 25 `docker save` layout) of 5
# layers made from /usr (/usr/include, python3.11, /usr/bin, /usr/share/doc, /usr/share/man),
# once with plain layers (image.tar) and once with gzip'd layers (image-gz.tar). Prints the
# median of RUNS scans (wall time, MB/s of the tarball, peak RSS), report into /dev/null.
#
#   bash benches/bench_image.sh
#   RUNS=5 bash benches/bench_image.sh
#   BIN=/path/to/leakscan bash benches/bench_image.sh   # no build
set -euo pipefail
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/tmp/leakscan-bench/image}
REPO=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >&2
mkdir -p "$BENCH_DIR"
if [ ! -f "$BENCH_DIR/.done" ]; then
    python3 - "$BENCH_DIR" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile

ROOTS = [r for r in ["/usr/include", "/usr/lib/python3.11", "/usr/bin", "/usr/share/doc", "/usr/share/man"]
         if os.path.isdir(r)]

def layer(root):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        t.add(root, arcname=root.lstrip("/"), recursive=True)
    return buf.getvalue()

def build(gz, out):
    blobs, descs, diffs = {}, [], []
    for r in ROOTS:
        data = layers[r]
        diffs.append("sha256:" + hashlib.sha256(data).hexdigest())
        if gz:
            data = gzip.compress(data, 6, mtime=0)
        d = hashlib.sha256(data).hexdigest()
        blobs[d] = data
        mt = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else "")
        descs.append({"mediaType": mt, "digest": "sha256:" + d, "size": len(data)})
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/bin"]},
                      "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
    c = hashlib.sha256(cfg).hexdigest(); blobs[c] = cfg
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + c, "size": len(cfg)},
                      "layers": descs}).encode()
    m = hashlib.sha256(man).hexdigest(); blobs[m] = man
    index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + m, "size": len(man), "annotations": {"io.containerd.image.name": "example.com/bench:1"}}]}).encode()
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        def add(name, data):
            ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
        for d in ("blobs", "blobs/sha256"):
            ti = tarfile.TarInfo(d); ti.type = tarfile.DIRTYPE; t.addfile(ti)
        for d in sorted(blobs):
            add("blobs/sha256/" + d, blobs[d])
        add("index.json", index)
        add("manifest.json", json.dumps([{"Config": "blobs/sha256/" + c, "RepoTags": ["example.com/bench:1"],
            "Layers": ["blobs/sha256/" + x["digest"][7:] for x in descs]}]).encode() + b"\n")
        add("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')

layers = {r: layer(r) for r in ROOTS}
build(False, os.path.join(sys.argv[1], "image.tar"))
build(True, os.path.join(sys.argv[1], "image-gz.tar"))
PY
    touch "$BENCH_DIR/.done"
fi
if [ -z "${BIN:-}" ]; then
    cargo build --release -q -p scanner-cli --manifest-path "$REPO/Cargo.toml"
    BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/leakscan
fi
printf '%-14s %8s %10s %8s %12s\n' tarball mb wall_s mb_s peak_rss_mb
for t in image.tar image-gz.tar; do
    mb=$(( $(stat -c %s "$BENCH_DIR/$t") / 1000000 ))
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -v "$BIN" scan --no-progress -q -f json "$BENCH_DIR/$t" >/dev/null 2>"$BENCH_DIR/time.txt" || true
        awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=p[n]+(n>1?p[n-1]*60:0)} /Maximum resident/ {r=int($2/1024)} END {print s, r}' "$BENCH_DIR/time.txt"
    done | sort -n | awk -v t="$t" -v mb="$mb" -v runs="$RUNS" \
        'NR == int((runs + 1) / 2) {printf "%-14s %8d %10.2f %8.0f %12d\n", t, mb, $1, mb / $1, $2}'
done
