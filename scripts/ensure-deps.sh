#!/usr/bin/env bash
# Installs what `npm start` and `npm test` need before anything runs: checks Node, and runs
# `npm ci` when node_modules is missing or older than package-lock.json. Go and Python are
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
  echo "… Installing npm dependencies (npm ci)" >&2
  # Installs scripts are allowed only for the packages listed in package.json's allowScripts.
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
  echo "✓ npm dependencies installed" >&2
fi
