#!/usr/bin/env bash
# Throughput and peak RSS of `leakscan audit` (issue 12 item 3) on a generated
# audit.k8s.io/v1 log of SIZE_MB (default 1100) MB: kubelets and controllers on client
# certificates, 200 service accounts on bound tokens, legacy tokens with their Secret
# annotations, each request as RequestReceived + ResponseComplete lines; the credentials of
# the report (a legacy, a bound and a bootstrap token that `leakscan scan` found in files)
# make 1 request in 2000. Median of RUNS (default 3) of
# `leakscan audit report.json audit.log --format json -o /dev/null` under /usr/bin/time -v,
# plain and gzip'd (gzip -1).
#
#   bash benches/bench_audit.sh
#   LOCK=/path/to/lock bash benches/bench_audit.sh   # measure under flock -x LOCK
set -euo pipefail
RUNS=${RUNS:-3}
SIZE_MB=${SIZE_MB:-1100}
BENCH_DIR=${BENCH_DIR:-/tmp/leakscan-bench}
REPO=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >&2
mkdir -p "$BENCH_DIR/audit-leak/ci" "$BENCH_DIR/audit-leak/apps"
LOG=$BENCH_DIR/audit-${SIZE_MB}m.log
locked() { if [ -n "${LOCK:-}" ]; then flock "$1" "$LOCK" "${@:2}"; else "${@:2}"; fi; }

# The leaked credentials, as files leakscan finds them in (the signature need not verify:
# nothing here checks it).
python3 - "$BENCH_DIR/audit-leak" <<'PY'
import base64, json, os, sys
root = sys.argv[1]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def jwt(claims):
    return ".".join([b64(b'{"alg":"RS256","kid":""}'), b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()), b64(os.urandom(256))])
legacy = jwt({"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/namespace": "ci",
              "kubernetes.io/serviceaccount/secret.name": "deployer-token-7xk2p",
              "kubernetes.io/serviceaccount/service-account.name": "deployer",
              "kubernetes.io/serviceaccount/service-account.uid": "6c4a1a3e-2d4b-4f37-9d2a-0c1e5b7f9a11",
              "sub": "system:serviceaccount:ci:deployer"})
bound = jwt({"aud": ["https://kubernetes.default.svc.cluster.local"], "exp": 1717286400, "iat": 1717200000,
             "iss": "https://kubernetes.default.svc.cluster.local", "jti": "5b0d6a52-8c1e-4f0e-9b7a-2d4c6e8f0a13",
             "kubernetes.io": {"namespace": "apps", "pod": {"name": "web-0", "uid": "7b2f3a1c-9d8e-4f6a-b5c4-d3e2f1a0b9c8"},
                               "serviceaccount": {"name": "web", "uid": "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6"}},
             "nbf": 1717200000, "sub": "system:serviceaccount:apps:web"})
open(f"{root}/ci/deploy.env", "w").write(f"KUBE_TOKEN={legacy}\n")
open(f"{root}/apps/debug.log", "w").write(f"curl -H 'Authorization: Bearer {bound}' https://10.0.0.10:6443/api\n")
open(f"{root}/join.sh", "w").write("kubeadm join 10.0.0.10:6443 --token x7k2p9.m4n5q8r1s3t6v9w2 --discovery-token-ca-cert-hash sha256:8cb2de97839780a412b93877f8507ad6c94f73add17d5d7058e91741c9d5ec78\n")
PY

if [ ! -f "$LOG" ]; then
    python3 - "$LOG" "$SIZE_MB" <<'PY'
import json, random, sys, uuid, datetime
path, size = sys.argv[1], int(sys.argv[2]) * 10**6
rnd = random.Random(12)
hexd = lambda n: "%0*x" % (n, rnd.getrandbits(4 * n))
uid = lambda: str(uuid.UUID(int=rnd.getrandbits(128), version=4))
dumps = lambda v: json.dumps(v, separators=(",", ":"))
G = ["system:serviceaccounts", None, "system:authenticated"]
users = []
for i in range(20):  # kubelets: client certificates
    node = f"ip-10-0-{i // 8}-{10 + i}.ec2.internal"
    users.append(({"username": f"system:node:{node}", "groups": ["system:nodes", "system:authenticated"],
                   "extra": {"authentication.kubernetes.io/credential-id": [f"X509SHA256={hexd(64)}"]}},
                  "kubelet/v1.30.2 (linux/amd64) kubernetes/3968350", [f"10.0.{i // 8}.{10 + i}"],
                  [("get", "nodes", "", node, ""), ("patch", "nodes", "", node, "status"), ("get", "configmaps", "kube-system", "kube-proxy", ""),
                   ("watch", "pods", "", "", ""), ("update", "leases", "kube-node-lease", node, "")], {}))
for name in ["system:kube-controller-manager", "system:kube-scheduler"]:
    users.append(({"username": name, "groups": ["system:authenticated"],
                   "extra": {"authentication.kubernetes.io/credential-id": [f"X509SHA256={hexd(64)}"]}},
                  f"kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350/{name.split(':')[1]}", ["10.0.0.10"],
                  [("get", "leases", "kube-system", name.split(":")[1], ""), ("list", "pods", "", "", ""), ("update", "replicasets", "apps", "web-7d4f8", "status")], {}))
for i in range(200):  # workloads on bound tokens
    ns, sa = f"team-{i % 17}", f"app-{i}"
    pod = f"{sa}-{hexd(5)}-{hexd(5)}"
    users.append(({"username": f"system:serviceaccount:{ns}:{sa}", "uid": uid(), "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"],
                   "extra": {"authentication.kubernetes.io/credential-id": [f"JTI={uid()}"], "authentication.kubernetes.io/node-name": [f"ip-10-0-0-{10 + i % 20}.ec2.internal"],
                             "authentication.kubernetes.io/node-uid": [uid()], "authentication.kubernetes.io/pod-name": [pod], "authentication.kubernetes.io/pod-uid": [uid()]}},
                  "Go-http-client/2.0", [f"10.244.{i % 20}.{i % 250 + 2}"],
                  [("get", "configmaps", ns, f"{sa}-config", ""), ("list", "endpointslices", ns, "", ""), ("watch", "secrets", ns, "", ""), ("get", "leases", ns, sa, "")], {}))
for i in range(5):  # other legacy tokens
    ns, sa = "ci", f"runner-{i}"
    users.append(({"username": f"system:serviceaccount:{ns}:{sa}", "uid": uid(), "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]},
                  "argocd-application-controller/v0.0.0 (linux/amd64) kubernetes/$Format", ["10.0.3.4"],
                  [("list", "deployments", "ci", "", ""), ("patch", "deployments", "ci", f"app-{i}", "")],
                  {"authentication.k8s.io/legacy-token-manual-secret": f"{sa}-token"}))
leaked = [
    ({"username": "system:serviceaccount:ci:deployer", "uid": uid(), "groups": ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"]},
     "python-requests/2.31.0", ["198.51.100.23", "203.0.113.7"], [("get", "secrets", "kube-system", "db-creds", ""), ("list", "pods", "", "", "")],
     {"authentication.k8s.io/legacy-token-manual-secret": "deployer-token-7xk2p"}),
    ({"username": "system:serviceaccount:apps:web", "uid": uid(), "groups": ["system:serviceaccounts", "system:serviceaccounts:apps", "system:authenticated"],
      "extra": {"authentication.kubernetes.io/credential-id": ["JTI=5b0d6a52-8c1e-4f0e-9b7a-2d4c6e8f0a13"], "authentication.kubernetes.io/pod-name": ["web-0"]}},
     "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350", ["203.0.113.7"], [("create", "pods", "apps", "web-0", "exec"), ("get", "secrets", "apps", "tls", "")],
     {"authentication.k8s.io/stale-token": "subject: system:serviceaccount:apps:web, seconds after warning threshold: 4185802"}),
    ({"username": "system:bootstrap:x7k2p9", "groups": ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"]},
     "kubeadm/v1.30.2 (linux/amd64) kubernetes/3968350", ["203.0.113.9"], [("create", "certificatesigningrequests", "", "", "")], {}),
]
def uri(verb, res, ns, name, sub):
    u = "/api/v1" if res in ("pods", "configmaps", "secrets", "nodes") else "/apis/apps/v1"
    if ns: u += f"/namespaces/{ns}"
    u += f"/{res}"
    if name: u += f"/{name}"
    if sub: u += f"/{sub}"
    return u + ("?limit=500" if verb == "list" else "?watch=true" if verb == "watch" else "")
t = datetime.datetime(2024, 6, 1, tzinfo=datetime.timezone.utc)
step = datetime.timedelta(microseconds=51_337)
written, n = 0, 0
with open(path, "w", buffering=1 << 22) as out:
    while written < size:
        n += 1
        user, ua, ips, actions, ann = leaked[n % 3] if n % 2000 == 0 else users[rnd.randrange(len(users))]
        verb, res, ns, name, sub = actions[rnd.randrange(len(actions))]
        ref = {"resource": res}
        if ns: ref["namespace"] = ns
        if name: ref["name"] = name
        ref["apiVersion"] = "v1"
        if sub: ref["subresource"] = sub
        t += step
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        ts2 = (t + datetime.timedelta(microseconds=1315)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        common = (f'"auditID":"{uid()}","stage":"%s","requestURI":{dumps(uri(verb, res, ns, name, sub))},"verb":"{verb}",'
                  f'"user":{dumps(user)},"sourceIPs":{dumps(ips)},"userAgent":{dumps(ua)},"objectRef":{dumps(ref)},')
        a = {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "RBAC: allowed by ClusterRoleBinding \"system:basic-user\" of ClusterRole \"system:basic-user\" to Group \"system:authenticated\""}
        a.update(ann)
        line1 = '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata",' + common % "RequestReceived" + f'"requestReceivedTimestamp":"{ts}","stageTimestamp":"{ts}"}}\n'
        code = 201 if verb == "create" else 200
        line2 = ('{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata",' + common % "ResponseComplete" +
                 f'"responseStatus":{{"metadata":{{}},"code":{code}}},"requestReceivedTimestamp":"{ts}","stageTimestamp":"{ts2}","annotations":{dumps(a)}}}\n')
        out.write(line1)
        out.write(line2)
        written += len(line1) + len(line2)
print(f"{path}: {written / 1e6:.0f} MB, {n} requests, {n // 2000} by the leaked credentials", file=sys.stderr)
PY
fi
[ -f "$LOG.gz" ] || gzip -1 -c "$LOG" > "$LOG.gz"

locked -s cargo build --release -q -p scanner-cli --manifest-path "$REPO/Cargo.toml"
BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/leakscan
"$BIN" scan "$BENCH_DIR/audit-leak" --format json --no-progress -o "$BENCH_DIR/audit-report.json" || [ $? = 1 ]
BYTES=$(stat -c %s "$LOG")
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {
    local input=$1 label=$2 walls=() rss=() out
    for _ in $(seq "$RUNS"); do
        out=$( { locked -x /usr/bin/time -v "$BIN" audit "$BENCH_DIR/audit-report.json" "$input" --format json -o /dev/null -q; } 2>&1 || true)
        walls+=("$(echo "$out" | awk -F': ' '/Elapsed \(wall/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}')")
        rss+=("$(echo "$out" | awk -F': ' '/Maximum resident/ {print $2}')")
    done
    w=$(printf '%s\n' "${walls[@]}" | median)
    r=$(printf '%s\n' "${rss[@]}" | median)
    awk -v l="$label" -v w="$w" -v r="$r" -v b="$BYTES" \
        'BEGIN {printf "%-6s %8.0f MB  %6.2f s  %6.0f MB/s  %4.0f MB RSS\n", l, b/1e6, w, b/1e6/w, r/1024}'
}
"$BIN" audit "$BENCH_DIR/audit-report.json" "$LOG" --format text --color never -q | tail -1
measure "$LOG" plain
measure "$LOG.gz" gzip
