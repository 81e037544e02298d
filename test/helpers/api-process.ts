import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { inject } from 'vitest';
import { REPO_ROOT } from '../../devstack/paths';
import { freePort } from '../../devstack/ports';
import '../setup/stack-info';

export interface ApiProcess {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** Everything the process printed so far (its pino log lines). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs the production API entry point (api/server.ts) as a child process against the run's real
 * servers, on a free port, and waits until it answers. Its output is kept for assertions.
 */
export async function startApiProcess(env: Record<string, string> = {}): Promise<ApiProcess> {
  const stack = inject('stack');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      DATABASE_URL: stack.databaseUrl,
      VAULT_ADDR: stack.vaultAddr,
      VAULT_TOKEN: stack.vaultToken,
      VAULT_KV_MOUNT: stack.kvMount,
      ROTOR_MIN_ROTATION_INTERVAL_SECONDS: '1',
      // Configured as a real deployment would be, so API-key verification answers.
      ROTOR_API_KEY_PEPPER: randomBytes(32).toString('base64url'),
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready when it answers: the "listening" log line is not printed at quieter log levels.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API process exited early:\n${output}`);
    const up = await fetch(`${url}/healthz`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the API process did not listen within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      // A graceful close that cannot finish (its servers already gone) must not leave it behind.
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
