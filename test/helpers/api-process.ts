import { spawn } from 'node:child_process';
import { inject } from 'vitest';
import { REPO_ROOT } from '../../devstack/paths';
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
 * servers, on a free port, and waits until it listens. Its output is kept for assertions.
 */
export async function startApiProcess(env: Record<string, string> = {}): Promise<ApiProcess> {
  const stack = inject('stack');
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
      API_HOST: '127.0.0.1',
      API_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) {
        clearInterval(timer);
        resolve(match[1]);
      }
    }, 100);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`the API process exited before listening:\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
