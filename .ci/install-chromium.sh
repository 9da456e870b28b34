#!/usr/bin/env bash
# Installs Debian's chromium for the real-browser report test (tests/CircuitNotebooks.Interactive.Tests).
# Idempotent: does nothing when /usr/bin/chromium already exists. Never uses `playwright install`:
# the test drives the system browser through Playwright's ExecutablePath.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo unknown version)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
/usr/bin/chromium --version || true
