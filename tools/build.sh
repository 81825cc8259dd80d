#!/usr/bin/env bash
# Builds the Go test tooling (kube-apiserver, etcd, kubectl, kubectl-krew; optionally calicoctl
# and confd) from Go modules into a cache directory outside the repo, keyed by a hash of the
# module files and of this script. See docs/test-cluster.md.
#
# Usage: tools/build.sh            build if needed; prints the absolute bin dir as the LAST stdout line
#        tools/build.sh --dir      print the bin dir path only (no build; exit 0 even if not built)
#        tools/build.sh --check    exit 0 if every expected binary is present, else 1 (no build)
#
# Environment:
#   CALICO_TUNE_TOOLS_CACHE        cache root (default: $HOME/.cache/calico-tune/tools)
#   CALICO_TUNE_BUILD_CALICOCTL=1  also build calicoctl and confd (tools/calico; slow, optional)
#   CALICO_TUNE_BUILD_P            go build -p value (default: 2)
# GOMODCACHE / GOCACHE / GOPROXY are left to Go's defaults (or whatever the caller exports), so the
# module and build caches persist across runs. Progress goes to stderr.
set -euo pipefail

TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${CALICO_TUNE_TOOLS_CACHE:-${HOME:-/root}/.cache/calico-tune/tools}
WITH_CALICO=${CALICO_TUNE_BUILD_CALICOCTL:-0}
[ "$WITH_CALICO" = 1 ] || WITH_CALICO=0
PAR=${CALICO_TUNE_BUILD_P:-2}

export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly"

# Versions baked into the binaries (must match tools/k8s/go.mod and tools/krew/go.mod).
K8S_VERSION=v1.34.4
K8S_BUILD_DATE=2026-02-10T12:53:36Z # commit time of the v1.34.4 tag, as the module proxy reports it
KREW_VERSION=v0.4.3
CALICO_VERSION=v3.31.0 # tools/calico pins the v3.31.0 tag commit (v3.31.4's is refused by the module proxy)
CALICO_COMMIT=b1f3c43f8437
CALICO_BUILD_DATE=2025-10-21T21:38:02Z

log() { printf '[tools/build.sh %s] %s\n' "$(date +%T)" "$*" >&2; }

mode=build
case "${1:-}" in
  "") ;;
  --dir) mode=dir ;;
  --check) mode=check ;;
  -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "tools/build.sh: unknown argument: $1" >&2; exit 2 ;;
esac

# ---- cache key ----------------------------------------------------------------------------------
# Hash of: this script, every go.mod/go.sum/*.go under the tool modules (tools/calico included
# even when calicoctl is not built, so that CALICO_TUNE_BUILD_CALICOCTL=1 later only adds calicoctl
# and confd to the same bin dir), and the Go version.
hash_inputs() {
  local mods=(k8s krew calico)
  {
    echo "build.sh"; cat "$TOOLS_DIR/build.sh"
    for m in "${mods[@]}"; do
      (cd "$TOOLS_DIR" && find "$m" -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) | LC_ALL=C sort) |
        while read -r f; do echo "$f"; cat "$TOOLS_DIR/$f"; done
    done
    go env GOVERSION 2>/dev/null || echo "go=missing"
  } | sha256sum | cut -c1-16
}
KEY=$(hash_inputs)
OUT=$CACHE_ROOT/$KEY
BIN=$OUT/bin

WANT=(kube-apiserver etcd kubectl kubectl-krew)
[ "$WITH_CALICO" = 1 ] && WANT+=(calicoctl confd)

all_present() {
  local b
  for b in "${WANT[@]}"; do [ -x "$BIN/$b" ] || return 1; done
}

case $mode in
  dir) echo "$BIN"; exit 0 ;;
  check) all_present && exit 0 || exit 1 ;;
esac

if all_present; then
  log "up to date: $BIN"
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { log "go not found on PATH"; exit 1; }
mkdir -p "$OUT"

# Serialise concurrent builds of the same key (a second caller waits, then finds everything built).
if command -v flock >/dev/null; then
  exec 9>"$OUT/.lock"
  flock 9
  if all_present; then log "up to date (built by a concurrent run): $BIN"; echo "$BIN"; exit 0; fi
fi

# Leftovers of interrupted builds of this key (we hold the lock, so nobody else is using them).
rm -rf "$OUT"/.tmp.* 2>/dev/null || true
TMP=$(mktemp -d "$OUT/.tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/bin"
start=$(date +%s)

missing() { local b; for b in "$@"; do [ -x "$BIN/$b" ] || return 0; done; return 1; }

if missing kube-apiserver etcd kubectl; then
  log "building kube-apiserver, etcd, kubectl ($K8S_VERSION) with go build -p $PAR (cold: ~6-7 min on 2 cores)"
  X=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    X+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=34"
    X+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$K8S_BUILD_DATE"
  done
  (cd "$TOOLS_DIR/k8s" && go build -p "$PAR" -trimpath -tags selinux,notest,grpcnotrace \
    -ldflags "-s -w$X" -o "$TMP/bin/" ./cmd/kube-apiserver ./cmd/etcd ./cmd/kubectl)
fi

if missing kubectl-krew; then
  log "building kubectl-krew ($KREW_VERSION)"
  (cd "$TOOLS_DIR/krew" && go build -p "$PAR" -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/krew/internal/version.gitTag=$KREW_VERSION -X sigs.k8s.io/krew/internal/version.gitCommit=none" \
    -o "$TMP/bin/kubectl-krew" sigs.k8s.io/krew/cmd/krew)
fi

if [ "$WITH_CALICO" = 1 ] && missing calicoctl confd; then
  log "building calicoctl, confd (calico $CALICO_VERSION)"
  (cd "$TOOLS_DIR/calico" && go build -p "$PAR" -trimpath \
    -ldflags "-s -w -X github.com/projectcalico/calico/pkg/buildinfo.Version=$CALICO_VERSION -X github.com/projectcalico/calico/pkg/buildinfo.GitRevision=$CALICO_COMMIT -X github.com/projectcalico/calico/pkg/buildinfo.BuildDate=$CALICO_BUILD_DATE" \
    -o "$TMP/bin/" github.com/projectcalico/calico/calicoctl/calicoctl github.com/projectcalico/calico/confd)
fi

# Publish: a fresh key gets the whole bin dir by one rename; an existing bin dir (e.g. calicoctl
# added later) gets each binary by its own rename. Either way no half-written binary is ever visible.
if [ ! -d "$BIN" ]; then
  mv -T "$TMP/bin" "$BIN"
else
  for f in "$TMP"/bin/*; do [ -e "$f" ] && mv -f "$f" "$BIN/"; done
fi
log "built in $(( $(date +%s) - start ))s: $BIN"
all_present || { log "some binaries are still missing in $BIN"; exit 1; }
echo "$BIN"
