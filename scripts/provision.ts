// Builds or installs the Temporal CLI, OpenBao and moto (the AWS IAM tests' stand-in) before the
// tests start, with progress on stderr, so no vitest hook sits silent through a first-run install.
import { DevstackError, ensureOpenBao, ensureTemporalCli, stderrProgress } from '../devstack';
import { ensureMoto } from '../devstack/moto';

async function main(): Promise<void> {
  const [temporal, bao, moto] = await Promise.all([
    ensureTemporalCli(stderrProgress),
    ensureOpenBao(stderrProgress),
    ensureMoto(stderrProgress),
  ]);
  stderrProgress.done(`temporal: ${temporal}`);
  stderrProgress.done(`bao: ${bao}`);
  stderrProgress.done(`moto: ${[moto.command, ...moto.args].join(' ')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`✗ ${err instanceof Error ? err.message : String(err)}\n`);
  if (!(err instanceof DevstackError) && err instanceof Error)
    process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
