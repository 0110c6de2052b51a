#!/usr/bin/env bash
# Build (once) and cache a real Kubernetes 1.20.2 — kube-apiserver, kubelet, kube-scheduler,
# kube-controller-manager, the pause binary — plus a matching kubectl, for the Kubernetes test
# tiers (the apiserver-only contract tests, and the single-node cluster of test/support/kube-cluster.ts).
#
# Everything comes from Debian through its ordinary client (apt-get):
#   * the four binaries are built in one `go build` from Debian bookworm's `kubernetes` SOURCE
#     package (the orig tarball is the full 1.20.2 tree with vendor/) using Debian's Go 1.19;
#   * pause is compiled statically from the same tree (build/pause/linux/pause.c);
#   * etcd comes from Debian's `etcd-server` package;
#   * kubectl 1.20.2 is unpacked from Debian's `kubernetes-client` .deb into the cache (not installed,
#     so it never clashes with a kubectl already on the machine).
# Fixes: A (Debian's reflect2 1.0.2 for the vendored 1.0.1), B (generate the OpenAPI definitions),
# C (kubelet: no negative oom_score_adj for sandboxes and Guaranteed pods, which this machine's
# capability bounding set cannot grant). See shared/reference/k8s.md §1.2 and k8s-real-cluster.md §3.
#
# Idempotent: when the cached binaries exist it only prints the cache directory (takes < 1 s).
# A cold build takes about 10 minutes on 2 cores.
#
# Environment:
#   SIBYL_KUBE_CACHE   cache directory (default /var/cache/sibyl/kubernetes-1.20.2)
#   SIBYL_KUBECTL_ONLY=1     fetch kubectl only, build nothing
#   SIBYL_KUBE_KEEP_BUILD=1  keep the build tree (source, GOPATH, GOCACHE; ~2 GB) after a successful build
#
# Output: the last line on stdout is the cache directory, holding kube-apiserver, kubelet,
# kube-scheduler, kube-controller-manager, pause and kubectl. Progress goes to stderr.
set -euo pipefail

K8S_VERSION=1.20.2
CACHE="${SIBYL_KUBE_CACHE:-/var/cache/sibyl/kubernetes-${K8S_VERSION}}"
BINARIES=(kube-apiserver kubelet kube-scheduler kube-controller-manager)
KUBECTL="$CACHE/kubectl"

log() { printf '[kube-build.sh] %s\n' "$*" >&2; }
built() {
  local b
  for b in "${BINARIES[@]}" pause; do [ -x "$CACHE/$b" ] || return 1; done
}
source "$(dirname "$0")/apt.sh"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    log "not root and no sudo: apt-get install may fail"; fi
fi

mkdir -p "$CACHE" 2>/dev/null || { $SUDO mkdir -p "$CACHE" && $SUDO chown "$(id -u):$(id -g)" "$CACHE"; }

# Several test processes may call this at once: serialise on a lock in the cache dir.
exec 9>"$CACHE/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_packages() {
  local missing=()
  for p in "$@"; do have_pkg "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing with apt-get: ${missing[*]}"
  # A fresh machine may have empty package lists.
  if ! apt-cache show "${missing[0]}" >/dev/null 2>&1; then apt_get update; fi
  apt_get install -y --no-install-recommends "${missing[@]}"
}

# Runtime needs (the test starts etcd and generates nothing else with external tools).
ensure_packages etcd-server

if built && [ -x "$KUBECTL" ] && [ -f "$CACHE/.complete" ]; then
  echo "$CACHE"
  exit 0
fi

# Build needs: Go, Debian's reflect2 1.0.2 (fix A), dpkg-dev for apt-get source, tar/gzip, a C
# compiler and libc for the static pause binary.
ensure_packages golang-go golang-github-modern-go-reflect2-dev dpkg-dev ca-certificates tar gzip gcc libc6-dev

# --- a private apt configuration with deb-src entries derived from the machine's own apt sources ---
# (the system's apt configuration is not changed and no host name is written anywhere)
APTDIR="$CACHE/aptsrc"
rm -rf "$APTDIR"
mkdir -p "$APTDIR"/{lists/partial,cache/archives/partial,parts}
n=0
shopt -s nullglob
for f in /etc/apt/sources.list.d/*.sources; do
  n=$((n + 1))
  sed -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb-src/' "$f" > "$APTDIR/parts/src-$n.sources"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' "$f" > "$APTDIR/parts/src-$n.list"
done
shopt -u nullglob
APTO=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$APTDIR/parts"
      -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache")

BUILD="$CACHE/build"
SRC="$BUILD/src"
mkdir -p "$BUILD" "$SRC"

# --- kubectl 1.20.2: unpack Debian's kubernetes-client .deb (seconds, no install) ---
if [ ! -x "$KUBECTL" ]; then
  log "fetching kubectl (Debian kubernetes-client)"
  apt-cache show kubernetes-client >/dev/null 2>&1 || apt_get update
  ( cd "$BUILD" && rm -f kubernetes-client_*.deb && apt-get download kubernetes-client >&2 )
  rm -rf "$BUILD/kubectl-deb"
  dpkg-deb -x "$(ls "$BUILD"/kubernetes-client_*.deb | head -n1)" "$BUILD/kubectl-deb"
  install -m 0755 "$BUILD/kubectl-deb/usr/bin/kubectl" "$KUBECTL.tmp"
  mv -f "$KUBECTL.tmp" "$KUBECTL"
  log "kubectl: $("$KUBECTL" version --client --short 2>/dev/null || true)"
fi
# SIBYL_KUBECTL_ONLY=1: kubectl alone (`kubectl kustomize` in the fast tier needs no cluster).
if [ "${SIBYL_KUBECTL_ONLY:-}" = 1 ]; then echo "$CACHE"; exit 0; fi

if ! built; then
  start=$(date +%s)
  ORIG=""
  for t in "$SRC"/kubernetes_*really${K8S_VERSION}*.orig.tar.gz; do [ -f "$t" ] && ORIG="$t"; done
  if [ -z "$ORIG" ]; then
    log "apt-get update (deb-src, private config)"
    apt-get "${APTO[@]}" update >&2 || log "apt-get update reported errors; trying apt-get source anyway"
    log "apt-get source --download-only kubernetes (~35 MB)"
    ( cd "$SRC" && apt-get "${APTO[@]}" source --download-only kubernetes >&2 )
    for t in "$SRC"/kubernetes_*.orig.tar.gz; do [ -f "$t" ] && ORIG="$t"; done
    [ -n "$ORIG" ] || { log "no kubernetes orig tarball was downloaded"; exit 1; }
  fi
  log "unpacking $(basename "$ORIG")"
  rm -rf "$SRC/kubernetes-$K8S_VERSION"
  tar -xzf "$ORIG" -C "$SRC"
  TREE="$SRC/kubernetes-$K8S_VERSION"
  [ -d "$TREE/cmd/kube-apiserver" ] || { log "unexpected tarball layout (no $TREE/cmd/kube-apiserver)"; exit 1; }

  # Fix A: the vendored reflect2 v1.0.1 crashes (SIGSEGV in json-iterator map encoding) with Go >= 1.18
  # on the first custom-resource create. Use Debian's reflect2 1.0.2.
  rm -rf "$TREE/vendor/github.com/modern-go/reflect2"
  cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$TREE/vendor/github.com/modern-go/reflect2"
  rm -f "$TREE/vendor/github.com/modern-go/reflect2/go.mod"

  # Fix C: dockershim gives every pod sandbox oom_score_adj -998 and Guaranteed pods -997; a
  # negative value needs CAP_SYS_RESOURCE, which this machine's bounding set lacks (runc fails).
  sed -i 's/^\tdefaultSandboxOOMAdj int = -998$/\tdefaultSandboxOOMAdj int = 0/' "$TREE/pkg/kubelet/dockershim/docker_sandbox.go"
  sed -i 's/^\tguaranteedOOMScoreAdj int = -997$/\tguaranteedOOMScoreAdj int = 0/' "$TREE/pkg/kubelet/qos/policy.go"
  grep -q 'defaultSandboxOOMAdj int = 0' "$TREE/pkg/kubelet/dockershim/docker_sandbox.go" || { log "fix C did not apply (docker_sandbox.go)"; exit 1; }
  grep -q 'guaranteedOOMScoreAdj int = 0' "$TREE/pkg/kubelet/qos/policy.go" || { log "fix C did not apply (qos/policy.go)"; exit 1; }

  # The pod sandbox's pause process, static so that it runs in an image of its own.
  gcc -Os -static -DVERSION=3.4.1 -o "$BUILD/pause" "$TREE/build/pause/linux/pause.c"
  strip "$BUILD/pause"

  # Kubernetes 1.20 builds in GOPATH mode.
  GOPATH_DIR="$BUILD/gopath"
  mkdir -p "$GOPATH_DIR/src/k8s.io"
  ln -sfn "$TREE" "$GOPATH_DIR/src/k8s.io/kubernetes"
  export GOPATH="$GOPATH_DIR" GOCACHE="$BUILD/gocache" GO111MODULE=off GOPROXY=off GOFLAGS= CGO_ENABLED=0
  cd "$GOPATH_DIR/src/k8s.io/kubernetes"
  mkdir -p "$BUILD/bin"

  # Fix B: generate pkg/generated/openapi/zz_generated.openapi.go (normally made by `make`).
  log "building openapi-gen"
  go build -o "$BUILD/bin/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
  DIRS=$( (grep -rl --include='*.go' '^// *+k8s:openapi-gen=' pkg cmd plugin; \
           grep -Rl --include='*.go' '^// *+k8s:openapi-gen=' vendor/k8s.io) \
    | grep -v -E '^vendor/k8s.io/(code-generator|sample-apiserver)/' | grep -v '/testdata/\|_test.go' \
    | xargs -n1 dirname | LC_ALL=C sort -u | sed 's#^#k8s.io/kubernetes/#' | paste -sd, -)
  log "generating OpenAPI definitions"
  "$BUILD/bin/openapi-gen" --logtostderr -i "$DIRS" -p k8s.io/kubernetes/pkg/generated/openapi \
    -O zz_generated.openapi -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt \
    -r "$BUILD/bin/violations.report" >&2

  # Version stamps (what hack/lib/version.sh would set), so /version reports v1.20.2.
  VPKGS=(k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version k8s.io/kubernetes/pkg/version)
  LDFLAGS="-s -w"
  for p in "${VPKGS[@]}"; do
    LDFLAGS+=" -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=20 -X $p.gitTreeState=archive"
    LDFLAGS+=" -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done

  log "building ${BINARIES[*]} in one go build (about 10 minutes from cold on 2 cores)"
  go build -ldflags "$LDFLAGS" -o "$BUILD/bin/" $(printf './cmd/%s ' "${BINARIES[@]}")
  for b in "${BINARIES[@]}"; do
    install -m 0755 "$BUILD/bin/$b" "$CACHE/$b.tmp"
    mv -f "$CACHE/$b.tmp" "$CACHE/$b"
  done
  install -m 0755 "$BUILD/pause" "$CACHE/pause"
  log "built in $(( $(date +%s) - start )) s"
fi

"$CACHE/kube-apiserver" --version >&2
touch "$CACHE/.complete"
if [ "${SIBYL_KUBE_KEEP_BUILD:-0}" != "1" ]; then
  rm -rf "$BUILD" "$APTDIR"
fi
echo "$CACHE"
