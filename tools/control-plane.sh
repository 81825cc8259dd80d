#!/usr/bin/env bash
# Reference (and smoke test) for running the test control plane by hand: etcd + kube-apiserver
# built by tools/build.sh, with token auth, RBAC, a self-signed serving cert and an audit log.
# The TypeScript harness does the same thing; this script is the tested flag set it mirrors.
# See docs/test-cluster.md.
#
# Usage: tools/control-plane.sh start DIR   start etcd + kube-apiserver with state in DIR (must be
#                                           empty or absent); waits for /readyz, writes
#                                           DIR/kubeconfig, prints "ready in N ms" and
#                                           "KUBECONFIG=DIR/kubeconfig" on stdout
#        tools/control-plane.sh stop DIR    SIGTERM both processes (by the pids in DIR), wait
#
# Environment: BIN (default: `tools/build.sh --dir`, i.e. Kubernetes 1.34; another version:
# BIN=$(tools/build.sh --k8s 1.28 --dir)), ADVERTISE_ADDRESS (default: unset, i.e. let
# kube-apiserver pick the default-route interface; if the machine has no default route, the script
# falls back to 127.0.0.1 + --endpoint-reconciler-type=none), READY_TIMEOUT (seconds, default 60).
set -euo pipefail

TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cmd=${1:-}; D=${2:-}
[ -n "$cmd" ] && [ -n "$D" ] || { sed -n '6,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

now_ms() { date +%s%3N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

stop() {
  local p
  for p in kube-apiserver etcd; do
    if [ -f "$D/$p.pid" ]; then
      local pid; pid=$(cat "$D/$p.pid")
      if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
      fi
      rm -f "$D/$p.pid"
    fi
  done
}

case $cmd in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "unknown command: $cmd" >&2; exit 2 ;;
esac

BIN=${BIN:-$("$TOOLS_DIR/build.sh" --dir)}
for b in etcd kube-apiserver kubectl; do [ -x "$BIN/$b" ] || { echo "missing $BIN/$b: run tools/build.sh" >&2; exit 1; }; done
mkdir -p "$D"; D=$(cd "$D" && pwd)
mkdir -p "$D/pki" "$D/etcd"
chmod 700 "$D/etcd"

ETCD_PORT=$(free_port); PEER_PORT=$(free_port); PORT=$(free_port)
TOKEN=test-admin-token-$RANDOM$RANDOM
echo "$TOKEN,admin,admin-uid,\"system:masters\"" >"$D/tokens.csv"
openssl genrsa -out "$D/sa.key" 2048 2>/dev/null

# Audit: every write at Request level (request body included), reads not logged.
cat >"$D/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Request
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
  - level: None
EOF

# The default-route check mirrors kube-apiserver's own chooseHostInterface() requirement.
ADV=()
if [ -n "${ADVERTISE_ADDRESS:-}" ]; then
  ADV=(--advertise-address="$ADVERTISE_ADDRESS")
  [[ $ADVERTISE_ADDRESS == 127.* ]] && ADV+=(--endpoint-reconciler-type=none)
elif ! awk 'NR>1 && $2=="00000000" {found=1} END {exit !found}' /proc/net/route; then
  ADV=(--advertise-address=127.0.0.1 --endpoint-reconciler-type=none)
fi

t0=$(now_ms)
"$BIN/etcd" \
  --name=default --data-dir="$D/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$PEER_PORT" \
  --initial-cluster="default=http://127.0.0.1:$PEER_PORT" \
  --unsafe-no-fsync=true --log-level=warn >"$D/etcd.log" 2>&1 &
echo $! >"$D/etcd.pid"

"$BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --cert-dir="$D/pki" \
  --bind-address=127.0.0.1 --secure-port="$PORT" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --allow-privileged=true \
  --authorization-mode=RBAC \
  --disable-admission-plugins=ServiceAccount,TaintNodesByCondition \
  --service-account-issuer="https://127.0.0.1:$PORT/" \
  --service-account-key-file="$D/sa.key" \
  --service-account-signing-key-file="$D/sa.key" \
  --token-auth-file="$D/tokens.csv" \
  --audit-policy-file="$D/audit-policy.yaml" --audit-log-path="$D/audit.log" \
  "${ADV[@]}" >"$D/kube-apiserver.log" 2>&1 &
echo $! >"$D/kube-apiserver.pid"

deadline=$(( $(date +%s) + ${READY_TIMEOUT:-60} ))
until [ -f "$D/pki/apiserver.crt" ] &&
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$D/pki/apiserver.crt" \
        -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$PORT/readyz")" = 200 ]; do
  for p in etcd kube-apiserver; do
    kill -0 "$(cat "$D/$p.pid")" 2>/dev/null || { echo "$p exited; tail of $D/$p.log:" >&2; tail -20 "$D/$p.log" >&2; stop; exit 1; }
  done
  if [ "$(date +%s)" -ge "$deadline" ]; then echo "not ready after ${READY_TIMEOUT:-60}s" >&2; tail -20 "$D/kube-apiserver.log" >&2; stop; exit 1; fi
  sleep 0.2
done
t1=$(now_ms)

cat >"$D/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster:
      server: https://127.0.0.1:$PORT
      certificate-authority: $D/pki/apiserver.crt
users:
  - name: admin
    user:
      token: $TOKEN
contexts:
  - name: test
    context: {cluster: test, user: admin}
current-context: test
EOF
echo "ready in $((t1 - t0)) ms"
echo "KUBECONFIG=$D/kubeconfig"
