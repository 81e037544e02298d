// Builds or installs the Temporal CLI and OpenBao before the tests start, with progress on
// stderr, so the vitest global setup never sits silent through a first-run compile.
import { DevstackError, ensureOpenBao, ensureTemporalCli, stderrProgress } from '../devstack';

async function main(): Promise<void> {
  const [temporal, bao] = await Promise.all([
    ensureTemporalCli(stderrProgress),
    ensureOpenBao(stderrProgress),
  ]);
  stderrProgress.done(`temporal: ${temporal}`);
  stderrProgress.done(`bao: ${bao}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`✗ ${err instanceof Error ? err.message : String(err)}\n`);
  if (!(err instanceof DevstackError) && err instanceof Error)
    process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
