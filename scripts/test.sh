#!/usr/bin/env bash
# `npm test`: the whole suite, as CI runs it. Installs npm dependencies, provisions the Temporal
# CLI and OpenBao (cached in .tools/), then type-checks, lints, checks formatting and runs vitest,
# whose global setup starts real Temporal, OpenBao and PostgreSQL servers on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

echo "== provision tools"
node --import tsx scripts/provision.ts

echo "== typecheck"
npx tsc --noEmit

echo "== lint"
npx eslint . --max-warnings 0

echo "== format"
npx prettier --check . --log-level warn

echo "== tests"
mkdir -p .rotor-test
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.rotor-test/vitest.json "$@" || status=$?
# One plain closing line that any CI reader understands; the report also decides the status, so
# nothing that rewrites vitest's exit code can turn a failing run green.
node -e '
  const r = require("./.rotor-test/vitest.json");
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  process.exit(r.success && r.numFailedTests === 0 && r.numTotalTests > 0 ? 0 : 1);
' || status=1
exit "$status"
