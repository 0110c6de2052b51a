#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the browser tests and the dashboard
# bench (playwright-core drives it; no browser is ever downloaded by a test tool).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
source "$(dirname "$0")/apt.sh"
apt_get update -qq
apt_get install -y -qq chromium
test -x /usr/bin/chromium
