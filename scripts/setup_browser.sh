#!/usr/bin/env bash
# What the browser tests need: Debian's Chromium (Playwright drives it; its own
# browser download cannot work offline) and axe-core from npm.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Chromium from Debian..."
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ ! -f "$ROOT/tests/browser/node_modules/axe-core/axe.min.js" ]; then
  (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --silent)
fi
