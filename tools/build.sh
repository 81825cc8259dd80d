#!/usr/bin/env bash
# Builds the Go test tooling from Go modules into a cache directory outside the repo: kube-apiserver,
# etcd and kubectl for every Kubernetes version of the test matrix (tools/k8s-<minor>/), kubectl-krew
# (tools/krew/), and optionally calicoctl and confd (tools/calico/). Each part is cached on its own,
# keyed by its own module files and its own build recipe, so changing one of them rebuilds only that
# part. See docs/test-cluster.md.
#
# Usage: tools/build.sh              build if needed; the LAST stdout line is the default bin dir:
#                                    the v1.34 kube tools + kubectl-krew (+ calicoctl, confd)
#        tools/build.sh --dir        print the default bin dir only (no build; exit 0 even if not built)
#        tools/build.sh --check      exit 0 if every expected binary is present, else 1 (no build)
#        tools/build.sh --k8s 1.28 [--dir|--check]
#                                    the same for one Kubernetes version only: its bin dir holds
#                                    kube-apiserver, etcd and kubectl (no krew, calicoctl, confd)
#        tools/build.sh --versions   print the Kubernetes versions (minor) tools/ has, one a line
#        tools/build.sh --daemons    print the bin dir of calico-typha and kube-controllers (no build)
#        tools/build.sh --felix      print the bin dir of calico-felix (no build)
#        tools/build.sh --crds       fetch (if needed) and print the dir of the monitoring.coreos.com CRDs
#                                    (ServiceMonitor, PodMonitor, Prometheus, PrometheusRule) from the
#                                    prometheus-operator Go module's example/prometheus-operator-crd/
#                                    (go mod download; the default build fetches them too)
#
# Environment:
#   CALICO_TUNE_TOOLS_CACHE        cache root (default: $HOME/.cache/calico-tune/tools)
#   CALICO_TUNE_K8S_VERSIONS       Kubernetes versions to build (and --check) besides the default
#                                  1.34, comma-separated, e.g. 1.28,1.33 (default: every tools/k8s-*;
#                                  "1.34" builds the default one only)
#   CALICO_TUNE_BUILD_CALICOCTL=1  also build calicoctl and confd (tools/calico; +2 min cold), the
#                                  calico-apiserver (tools/calico-apiserver; +5 min cold), and calico-typha
#                                  and kube-controllers (tools/calico, Go $CALICO_DAEMONS_GO: +8 min cold),
#                                  and calico-felix (the same, after them: +2.5 min cold)
#   CALICO_TUNE_BUILD_P            go build -p value (default: 2)
# GOMODCACHE / GOCACHE / GOPROXY are left to Go's defaults (or whatever the caller exports), so the
# module and build caches persist across runs. Progress goes to stderr.
set -euo pipefail

TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${CALICO_TUNE_TOOLS_CACHE:-${HOME:-/root}/.cache/calico-tune/tools}
WITH_CALICO=${CALICO_TUNE_BUILD_CALICOCTL:-0}
[ "$WITH_CALICO" = 1 ] || WITH_CALICO=0
PAR=${CALICO_TUNE_BUILD_P:-2}
DEFAULT_K8S=1.34

export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly"

# Versions baked into the binaries (must match tools/krew/go.mod and tools/calico/go.mod). The
# Kubernetes versions are in each tools/k8s-<minor>/build.env.
KREW_VERSION=v0.4.3
CALICO_VERSION=v3.31.0 # tools/calico pins the v3.31.0 tag commit (v3.31.4's is refused by the module proxy)
CALICO_COMMIT=b1f3c43f8437
CALICO_BUILD_DATE=2025-10-21T21:38:02Z

log() { printf '[tools/build.sh %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "$*"; exit 1; }

usage() { sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

mode=build
only_k8s=""
while [ $# -gt 0 ]; do
  case $1 in
    --dir) mode=dir ;;
    --check) mode=check ;;
    --versions) mode=versions ;;
    --crds) mode=crds ;;
    --daemons) mode=daemons ;;
    --felix) mode=felix ;;
    --k8s) [ $# -ge 2 ] || { echo "tools/build.sh: --k8s needs a version (e.g. 1.28)" >&2; exit 2; }; only_k8s=$2; shift ;;
    --k8s=*) only_k8s=${1#--k8s=} ;;
    -h|--help) usage; exit 0 ;;
    *) echo "tools/build.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

# ---- monitoring.coreos.com CRDs (not built: copied from the module, ~1 MB) ---------------------------
PROMOP_MODULE=github.com/prometheus-operator/prometheus-operator
PROMOP_VERSION=v0.85.0 # the newest version the module proxy serves here
PROMOP_CRDS=(servicemonitors podmonitors prometheuses prometheusrules)
PROMOP_OUT=$CACHE_ROOT/prometheus-operator-crds-$PROMOP_VERSION
ensure_crds() {
  local f missing=0
  for f in "${PROMOP_CRDS[@]}"; do [ -f "$PROMOP_OUT/monitoring.coreos.com_$f.yaml" ] || missing=1; done
  [ "$missing" = 1 ] || return 0
  command -v go >/dev/null || die "go not found on PATH (needed for go mod download $PROMOP_MODULE)"
  local dir tmp
  dir=$(go mod download -json "$PROMOP_MODULE@$PROMOP_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir/example/prometheus-operator-crd" ] || die "go mod download $PROMOP_MODULE@$PROMOP_VERSION gave no example/prometheus-operator-crd"
  mkdir -p "$CACHE_ROOT"
  tmp=$(mktemp -d "$CACHE_ROOT/.crds.XXXXXX")
  for f in "${PROMOP_CRDS[@]}"; do cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_$f.yaml" "$tmp/"; done
  chmod u+w "$tmp"/*
  rm -rf "$PROMOP_OUT"
  mv -T "$tmp" "$PROMOP_OUT" || { rm -rf "$tmp"; [ -d "$PROMOP_OUT" ] || die "could not publish $PROMOP_OUT"; }
  log "fetched the monitoring.coreos.com CRDs $PROMOP_VERSION: $PROMOP_OUT"
}
if [ "$mode" = crds ]; then ensure_crds; echo "$PROMOP_OUT"; exit 0; fi

# ---- Kubernetes versions -------------------------------------------------------------------------
available_k8s() { (cd "$TOOLS_DIR" && for d in k8s-*/; do [ -f "$d/build.env" ] && echo "${d%/}"; done) | sed 's/^k8s-//' | sort -V; }
if [ "$mode" = versions ]; then available_k8s; exit 0; fi

k8s_dir_of() {
  local v=${1#v}
  v=$(echo "$v" | cut -d. -f1,2) # 1.28.15 -> 1.28
  [ -f "$TOOLS_DIR/k8s-$v/build.env" ] || {
    echo "tools/build.sh: no Kubernetes $1 in tools/ (have: $(available_k8s | tr '\n' ' '))" >&2
    exit 2
  }
  echo "k8s-$v"
}

# ---- cache keys ------------------------------------------------------------------------------------
# Each part's key hashes: its build function (as bash prints it, so a change to another part's recipe
# or to this script's plumbing does not touch it), the variables it bakes in, every go.mod/go.sum/*.go
# (and build.env) under its module dir, and the Go version.
GO_VERSION=$(go env GOVERSION 2>/dev/null || echo "go=missing")

module_files() {
  (cd "$TOOLS_DIR" && find "$1" -type f \( -name go.mod -o -name go.sum -o -name '*.go' -o -name build.env \) | LC_ALL=C sort) |
    while read -r f; do echo "$f"; cat "$TOOLS_DIR/$f"; done
}

# build_k8s MODDIR OUTBIN: kube-apiserver, etcd, kubectl of the version in MODDIR/build.env.
build_k8s() {
  local mod=$1 out=$2 K8S_VERSION K8S_BUILD_DATE K8S_BUILD_TAGS=selinux,notest,grpcnotrace
  # shellcheck disable=SC1090,SC1091
  . "$TOOLS_DIR/$mod/build.env"
  grep -q "k8s.io/kubernetes $K8S_VERSION\$" "$TOOLS_DIR/$mod/go.mod" ||
    die "$mod/build.env says $K8S_VERSION but $mod/go.mod does not require k8s.io/kubernetes $K8S_VERSION"
  local minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  local X="" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    X+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    X+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$K8S_BUILD_DATE"
  done
  (cd "$TOOLS_DIR/$mod" && go build -p "$PAR" -trimpath -tags "$K8S_BUILD_TAGS" \
    -ldflags "-s -w$X" -o "$out/" ./cmd/kube-apiserver ./cmd/etcd ./cmd/kubectl)
}

build_krew() {
  (cd "$TOOLS_DIR/krew" && go build -p "$PAR" -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/krew/internal/version.gitTag=$KREW_VERSION -X sigs.k8s.io/krew/internal/version.gitCommit=none" \
    -o "$1/kubectl-krew" sigs.k8s.io/krew/cmd/krew)
}

build_calico() {
  (cd "$TOOLS_DIR/calico" && go build -p "$PAR" -trimpath \
    -ldflags "-s -w -X github.com/projectcalico/calico/pkg/buildinfo.Version=$CALICO_VERSION -X github.com/projectcalico/calico/pkg/buildinfo.GitRevision=$CALICO_COMMIT -X github.com/projectcalico/calico/pkg/buildinfo.BuildDate=$CALICO_BUILD_DATE" \
    -o "$1/" github.com/projectcalico/calico/calicoctl/calicoctl github.com/projectcalico/calico/confd)
}

# Calico's aggregated API server (projectcalico.org/v3), from the same Calico commit as build_calico but in a
# module of its own (tools/calico-apiserver: it needs k8s.io/kubernetes, which calicoctl and confd do not).
build_calico_apiserver() {
  (cd "$TOOLS_DIR/calico-apiserver" && go build -p "$PAR" -trimpath \
    -ldflags "-s -w -X github.com/projectcalico/calico/pkg/buildinfo.Version=$CALICO_VERSION -X github.com/projectcalico/calico/pkg/buildinfo.GitRevision=$CALICO_COMMIT -X github.com/projectcalico/calico/pkg/buildinfo.BuildDate=$CALICO_BUILD_DATE" \
    -o "$1/calico-apiserver" github.com/projectcalico/calico/apiserver/cmd/apiserver)
}

key_of() { # key_of MODDIR FUNCTION [VALUES...]
  local mod=$1 fn=$2; shift 2
  { echo "CGO_ENABLED=0 GOTOOLCHAIN=local -trimpath"; declare -f "$fn"; echo "$*"; module_files "$mod"; echo "$GO_VERSION"; } |
    sha256sum | cut -c1-16
}

# calico-typha and kube-controllers, for the monitoring tests (real /metrics through the API server's proxy).
# Built with the Go release Calico v3.31 uses: built with Go 1.26 Typha panics serializing labels
# (lib/std/uniquelabels: "makeslice: len out of range"). GOTOOLCHAIN fetches that Go from the module proxy.
CALICO_DAEMONS_GO=go1.24.9
build_calico_daemons() {
  (cd "$TOOLS_DIR/calico" && GOTOOLCHAIN=$CALICO_DAEMONS_GO go build -p "$PAR" -trimpath \
    -ldflags "-s -w -X github.com/projectcalico/calico/pkg/buildinfo.Version=$CALICO_VERSION -X github.com/projectcalico/calico/pkg/buildinfo.GitRevision=$CALICO_COMMIT -X github.com/projectcalico/calico/pkg/buildinfo.BuildDate=$CALICO_BUILD_DATE" \
    -o "$1/" github.com/projectcalico/calico/typha/cmd/calico-typha github.com/projectcalico/calico/kube-controllers/cmd/kube-controllers)
}

# calico-felix, for the monitoring tests' real Felix (its iptables dataplane in a network namespace; see
# docs/testing.md). The same module, Go and flags as the daemons (CGO_ENABLED=0: the libbpf stub, never called
# with BPF off). Felix needs more modules than calicoctl, confd and the daemons: their checksums are in
# calico/felix.go.sum and join go.sum in a -modfile copy, so those parts' cache keys stay as they are.
build_calico_felix() {
  local tmp=${1%/bin}
  cp "$TOOLS_DIR/calico/go.mod" "$tmp/felix.mod"
  cat "$TOOLS_DIR/calico/go.sum" "$TOOLS_DIR/calico/felix.go.sum" >"$tmp/felix.sum"
  (cd "$TOOLS_DIR/calico" && GOTOOLCHAIN=$CALICO_DAEMONS_GO go build -modfile="$tmp/felix.mod" -p "$PAR" -trimpath \
    -ldflags "-s -w -X github.com/projectcalico/calico/pkg/buildinfo.Version=$CALICO_VERSION -X github.com/projectcalico/calico/pkg/buildinfo.GitRevision=$CALICO_COMMIT -X github.com/projectcalico/calico/pkg/buildinfo.BuildDate=$CALICO_BUILD_DATE" \
    -o "$1/calico-felix" github.com/projectcalico/calico/felix/cmd/calico-felix)
}

k8s_out() { # the cache dir of one Kubernetes version: k8s-v1.28.15-<key>
  local mod=$1 K8S_VERSION
  # shellcheck disable=SC1090,SC1091
  K8S_VERSION=$(. "$TOOLS_DIR/$mod/build.env" && echo "$K8S_VERSION")
  echo "$CACHE_ROOT/k8s-$K8S_VERSION-$(key_of "$mod" build_k8s)"
}
KREW_OUT=$CACHE_ROOT/krew-$KREW_VERSION-$(key_of krew build_krew "$KREW_VERSION")
CALICO_OUT=$CACHE_ROOT/calico-$CALICO_VERSION-$(key_of calico build_calico "$CALICO_VERSION $CALICO_COMMIT $CALICO_BUILD_DATE")
K8S_DEFAULT_OUT=$(k8s_out "k8s-$DEFAULT_K8S")
K8S_BINARIES=(kube-apiserver etcd kubectl)
CALICO_APISERVER_OUT=$CACHE_ROOT/calico-apiserver-$CALICO_VERSION-$(key_of calico-apiserver build_calico_apiserver "$CALICO_VERSION $CALICO_COMMIT $CALICO_BUILD_DATE")
CALICO_BINARIES=(calicoctl confd calico-apiserver)
CALICO_DAEMONS_OUT=$CACHE_ROOT/calico-daemons-$CALICO_VERSION-$(key_of calico build_calico_daemons "$CALICO_VERSION $CALICO_COMMIT $CALICO_BUILD_DATE $CALICO_DAEMONS_GO")
CALICO_DAEMONS=(calico-typha kube-controllers)
CALICO_FELIX_OUT=$CACHE_ROOT/calico-felix-$CALICO_VERSION-$(key_of calico build_calico_felix "$CALICO_VERSION $CALICO_COMMIT $CALICO_BUILD_DATE $CALICO_DAEMONS_GO $(cat "$TOOLS_DIR/calico/felix.go.sum")")

# The default bin dir holds hard links to the parts' binaries. Its key is made of the parts' keys (the
# calico one always, so that CALICO_TUNE_BUILD_CALICOCTL=1 later only adds calicoctl and confd to it).
DEFAULT_KEY=$(echo "$K8S_DEFAULT_OUT $KREW_OUT $CALICO_OUT $CALICO_APISERVER_OUT" | sha256sum | cut -c1-16)
DEFAULT_OUT=$CACHE_ROOT/$DEFAULT_KEY
DEFAULT_WANT=("${K8S_BINARIES[@]}" kubectl-krew)
[ "$WITH_CALICO" = 1 ] && DEFAULT_WANT+=("${CALICO_BINARIES[@]}")

# The extra versions: CALICO_TUNE_K8S_VERSIONS, default every tools/k8s-*.
extra_k8s=()
if [ -z "$only_k8s" ]; then
  IFS=', ' read -r -a wanted <<<"${CALICO_TUNE_K8S_VERSIONS:-$(available_k8s | tr '\n' ',')}"
  for v in "${wanted[@]}"; do
    [ -n "$v" ] || continue
    m=$(k8s_dir_of "$v")
    [ "$m" = "k8s-$DEFAULT_K8S" ] || extra_k8s+=("$m")
  done
fi

present() { # present BINDIR NAMES...
  local dir=$1 b
  shift
  for b in "$@"; do [ -x "$dir/$b" ] || return 1; done
}

# ---- --dir / --check ---------------------------------------------------------------------------------
if [ -n "$only_k8s" ]; then
  ONLY_MOD=$(k8s_dir_of "$only_k8s")
  ONLY_OUT=$(k8s_out "$ONLY_MOD")
  case $mode in
    dir) echo "$ONLY_OUT/bin"; exit 0 ;;
    check) present "$ONLY_OUT/bin" "${K8S_BINARIES[@]}" && exit 0 || exit 1 ;;
  esac
fi
case $mode in
  dir) echo "$DEFAULT_OUT/bin"; exit 0 ;;
  daemons) echo "$CALICO_DAEMONS_OUT/bin"; exit 0 ;;
  felix) echo "$CALICO_FELIX_OUT/bin"; exit 0 ;;
  check)
    present "$DEFAULT_OUT/bin" "${DEFAULT_WANT[@]}" || exit 1
    for m in "${extra_k8s[@]}"; do present "$(k8s_out "$m")/bin" "${K8S_BINARIES[@]}" || exit 1; done
    exit 0
    ;;
esac

# ---- build -------------------------------------------------------------------------------------------
TMPS=()
cleanup() { local t; for t in "${TMPS[@]}"; do rm -rf "$t"; done; }
trap cleanup EXIT

# ensure OUT WHAT BUILDER [ARGS...] -- NAMES...: unless OUT/bin has NAMES, runs BUILDER ARGS... TMPBIN
# under a lock on OUT/.lock (a concurrent caller waits, then finds everything built), then publishes:
# a fresh OUT/bin appears by one rename; binaries added to an existing OUT/bin are renamed in one by one.
# So no half-written binary is ever visible, and an interrupted build leaves nothing behind.
ensure() {
  local out=$1 what=$2 builder=() names=() seen=0 a
  shift 2
  for a in "$@"; do
    if [ "$seen" = 1 ]; then names+=("$a"); elif [ "$a" = -- ]; then seen=1; else builder+=("$a"); fi
  done
  if present "$out/bin" "${names[@]}"; then
    log "up to date: $what ($out/bin)"
    return 0
  fi
  [ "${builder[0]}" = link_into ] || command -v go >/dev/null || die "go not found on PATH"
  mkdir -p "$out"
  local fd
  exec {fd}>"$out/.lock"
  command -v flock >/dev/null && flock "$fd"
  if present "$out/bin" "${names[@]}"; then
    log "up to date (built by a concurrent run): $what"
    exec {fd}>&-
    return 0
  fi
  rm -rf "$out"/.tmp.* 2>/dev/null || true # leftovers of interrupted builds (we hold the lock)
  local tmp start
  tmp=$(mktemp -d "$out/.tmp.XXXXXX")
  TMPS+=("$tmp")
  mkdir -p "$tmp/bin"
  start=$(date +%s)
  log "building $what"
  "${builder[@]}" "$tmp/bin"
  if [ ! -d "$out/bin" ]; then
    mv -T "$tmp/bin" "$out/bin"
  else
    local f
    for f in "$tmp"/bin/*; do [ -e "$f" ] && mv -f "$f" "$out/bin/"; done
  fi
  rm -rf "$tmp"
  exec {fd}>&-
  log "built $what in $(($(date +%s) - start))s: $out/bin"
  present "$out/bin" "${names[@]}" || die "some of ${names[*]} are still missing in $out/bin"
}

# link_into SRCDIR... DEST: hard links (copies across file systems) of the parts' binaries in DEST.
link_into() {
  local dest=${*: -1} src b
  for src in "${@:1:$#-1}"; do
    for b in "$src"/*; do ln -f "$b" "$dest/" 2>/dev/null || cp -p "$b" "$dest/"; done
  done
}

k8s_what() { local V; V=$(. "$TOOLS_DIR/$1/build.env" && echo "$K8S_VERSION"); echo "kube-apiserver, etcd, kubectl $V (go build -p $PAR)"; }

if [ -n "$only_k8s" ]; then
  ensure "$ONLY_OUT" "$(k8s_what "$ONLY_MOD")" build_k8s "$ONLY_MOD" -- "${K8S_BINARIES[@]}"
  echo "$ONLY_OUT/bin"
  exit 0
fi

ensure "$K8S_DEFAULT_OUT" "$(k8s_what "k8s-$DEFAULT_K8S")" build_k8s "k8s-$DEFAULT_K8S" -- "${K8S_BINARIES[@]}"
for m in "${extra_k8s[@]}"; do
  ensure "$(k8s_out "$m")" "$(k8s_what "$m")" build_k8s "$m" -- "${K8S_BINARIES[@]}"
done
ensure "$KREW_OUT" "kubectl-krew $KREW_VERSION (go build -p $PAR)" build_krew -- kubectl-krew
parts=("$K8S_DEFAULT_OUT/bin" "$KREW_OUT/bin")
if [ "$WITH_CALICO" = 1 ]; then
  ensure "$CALICO_OUT" "calicoctl, confd $CALICO_VERSION (go build -p $PAR)" build_calico -- calicoctl confd
  ensure "$CALICO_APISERVER_OUT" "calico-apiserver $CALICO_VERSION (go build -p $PAR)" build_calico_apiserver -- calico-apiserver
  ensure "$CALICO_DAEMONS_OUT" "calico-typha, kube-controllers $CALICO_VERSION ($CALICO_DAEMONS_GO, go build -p $PAR)" build_calico_daemons -- "${CALICO_DAEMONS[@]}"
  ensure "$CALICO_FELIX_OUT" "calico-felix $CALICO_VERSION ($CALICO_DAEMONS_GO, go build -p $PAR)" build_calico_felix -- calico-felix
  parts+=("$CALICO_OUT/bin" "$CALICO_APISERVER_OUT/bin")
fi
ensure_crds
ensure "$DEFAULT_OUT" "the default bin dir (hard links)" link_into "${parts[@]}" -- "${DEFAULT_WANT[@]}"
echo "$DEFAULT_OUT/bin"
