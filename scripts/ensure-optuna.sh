#!/usr/bin/env bash
# Makes sure /usr/bin/python3 can import Debian's Optuna (python3-optuna, 3.1 on Debian 12), the
# anchor of the early-stopping bench (bench/optuna_pruners.py).
set -euo pipefail
if /usr/bin/python3 -c 'import optuna' 2>/dev/null; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
source "$(dirname "$0")/apt.sh"
apt_get update -qq
apt_get install -y -qq python3-optuna
/usr/bin/python3 -c 'import optuna'
