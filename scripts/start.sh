#!/usr/bin/env bash
# `npm start`: install what is missing, then run Rotor on its embedded local stack.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
# Two malloc arenas: the Temporal SDK's native threads otherwise fragment ~80 MB more of the
# worker's memory (README "Performance", worker memory). Read by glibc at start, so set here.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# exec: Ctrl-C reaches this Node process directly, which stops the stack before exiting.
exec node --import tsx workers/dev.ts
