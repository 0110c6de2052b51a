#!/usr/bin/env bash
# The base image deploy/Containerfile names, `node:20-bookworm-slim`, made here without a
# registry: a minimal Debian bookworm (debootstrap, from the machine's own apt sources) with this
# machine's Node 20 laid out as the official image lays it out, its CA certificates and npm's
# settings, and user `node` (uid/gid 1000). Cached as a root-filesystem tarball; the cluster
# helper imports it into its dockerd (`docker import`). Idempotent; needs root.
#
# Output: the last line on stdout is the tarball's path.
set -euo pipefail
log() { printf '[kube-base-image.sh] %s\n' "$*" >&2; }
CACHE="${SIBYL_IMAGE_CACHE:-/var/cache/sibyl/images}"
TAR="$CACHE/node-20-bookworm-slim.tar"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ -s "$TAR" ]; then echo "$TAR"; exit 0; fi

NODE=$(readlink -f "$(command -v node)")
NODE_MAJOR=$("$NODE" -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" = 20 ] || { log "this machine's node is $("$NODE" --version), not 20"; exit 1; }
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")   # …/node_modules/npm
HEADERS=$(dirname "$NODE")/../include/node
[ -d "$HEADERS" ] || HEADERS=/usr/include/node

# The first deb URI of the machine's own apt sources (deb822 or one-line format).
MIRROR=$(sed -nE 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
[ -n "$MIRROR" ] || MIRROR=$(sed -nE 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1)
[ -n "$MIRROR" ] || { log "no apt source to debootstrap from"; exit 1; }

ROOT="$CACHE/rootfs.$$"
rm -rf "$ROOT"
trap 'rm -rf "$ROOT" "$TAR.tmp"' EXIT
log "debootstrap --variant=minbase bookworm (about a minute)"
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >&2

# apt inside the image as on this machine: its sources and its apt settings (a proxy, say).
rm -f "$ROOT/etc/apt/sources.list"
cp /etc/apt/sources.list.d/*.sources "$ROOT/etc/apt/sources.list.d/" 2>/dev/null || cp /etc/apt/sources.list "$ROOT/etc/apt/sources.list"
cp /etc/apt/apt.conf.d/99* "$ROOT/etc/apt/apt.conf.d/" 2>/dev/null || true
# The machine's CA bundle: registries are reached through it.
mkdir -p "$ROOT/etc/ssl/certs" "$ROOT/usr/local/share/ca-certificates"
cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/" 2>/dev/null || true

# Node as the official image has it: /usr/local/bin/node, npm and corepack under /usr/local/lib.
install -D -m 0755 "$NODE" "$ROOT/usr/local/bin/node"
mkdir -p "$ROOT/usr/local/lib/node_modules" "$ROOT/usr/local/include"
cp -a "$NPM_DIR" "$ROOT/usr/local/lib/node_modules/npm"
[ -d "$(dirname "$NPM_DIR")/corepack" ] && cp -a "$(dirname "$NPM_DIR")/corepack" "$ROOT/usr/local/lib/node_modules/corepack"
cp -a "$HEADERS" "$ROOT/usr/local/include/node"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
# npm: the CA bundle, and local headers for node-gyp (no download of headers or prebuilt binaries).
printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nnodedir=/usr/local\n' > "$ROOT/usr/local/etc/npmrc" 2>/dev/null \
  || { mkdir -p "$ROOT/usr/local/etc" && printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nnodedir=/usr/local\n' > "$ROOT/usr/local/etc/npmrc"; }
chroot "$ROOT" /usr/local/bin/node --version >&2

# The official image's user: node, uid and gid 1000.
chroot "$ROOT" groupadd --gid 1000 node
chroot "$ROOT" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*

tar --numeric-owner -C "$ROOT" -cf "$TAR.tmp" .
mv -f "$TAR.tmp" "$TAR"
log "base image tarball: $(du -h "$TAR" | cut -f1)"
echo "$TAR"
