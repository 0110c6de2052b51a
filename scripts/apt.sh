# apt_get ARGS…: apt-get that waits for the package database when another install holds it
# (dpkg's lock, or the lists' lock during an update), instead of failing. Sourced by the
# scripts that install Debian packages for the tests.
apt_get() {
  local attempt out
  for attempt in $(seq 1 120); do
    if out=$(DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get -o DPkg::Lock::Timeout=30 "$@" 2>&1); then
      [ -n "$out" ] && printf '%s\n' "$out" >&2
      return 0
    fi
    if grep -qiE 'could not get lock|unable to acquire|is locked|another process' <<<"$out"; then
      [ "$attempt" = 1 ] && echo "apt-get: the package database is busy; waiting for it" >&2
      sleep 5
      continue
    fi
    printf '%s\n' "$out" >&2
    return 1
  done
  echo "apt-get: the package database stayed busy for 10 minutes" >&2
  return 1
}
