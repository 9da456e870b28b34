#!/usr/bin/env bash
# What the test suite needs beyond the .NET SDK, installed idempotently (the README's test command runs this first):
# - Debian's chromium, for the real-browser chart tests (driven through Playwright's ExecutablePath; never
#   `playwright install`, which downloads a browser);
# - the dotnet tools pinned in .config/dotnet-tools.json (dotnet-repl, the real notebook kernel's headless runner).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x /usr/bin/chromium ]; then
  echo "chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo unknown version)"
else
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
  /usr/bin/chromium --version || true
fi
dotnet tool restore
