#!/usr/bin/env bash
# The browser the explorer's test drives: Debian's chromium and its matching chromedriver (packages
# chromium, chromium-driver), installed when missing. As root on a fresh Debian machine it just works;
# otherwise through sudo. Nothing is downloaded outside apt.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else
  command -v sudo >/dev/null || { echo "chromium/chromedriver are missing and neither root nor sudo can install them:" \
    "apt-get install chromium chromium-driver" >&2; exit 1; }
  SUDO="sudo"
fi
echo "== installing chromium and chromium-driver (Debian packages) for the browser test"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver
/usr/bin/chromium --version && /usr/bin/chromedriver --version
