#!/usr/bin/env bash
# The Debian packages the single-node cluster of the tests needs (test/support/kube-cluster.ts),
# installed with apt-get when missing: Docker's engine for the kubelet's dockershim (docker.io
# brings containerd, runc and iptables), etcd, openssl for the cluster's certificates, and
# debootstrap for the base image of Sibyl's own (scripts/kube-base-image.sh). Idempotent; needs root.
set -euo pipefail
log() { printf '[kube-host.sh] %s\n' "$*" >&2; }
source "$(dirname "$0")/apt.sh"
[ "$(id -u)" = 0 ] || { log "the cluster tier runs dockerd and a kubelet: it must run as root"; exit 1; }

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
for p in docker.io etcd-server openssl debootstrap iptables tar; do have_pkg "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing with apt-get: ${missing[*]}"
  apt-cache show "${missing[0]}" >/dev/null 2>&1 || apt_get update
  apt_get install -y --no-install-recommends "${missing[@]}"
fi
# docker.io's own service is not started: the tests run a private dockerd (no init system here).
for b in /usr/sbin/dockerd /usr/bin/docker /usr/bin/etcd /usr/sbin/debootstrap /usr/bin/openssl; do
  [ -x "$b" ] || { log "missing $b after the install"; exit 1; }
done
echo ok
