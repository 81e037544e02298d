#!/usr/bin/env bash
# `npm start`: install what is missing, then run Rotor on its embedded local stack.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
# exec: Ctrl-C reaches this Node process directly, which stops the stack before exiting.
exec node --import tsx workers/dev.ts
