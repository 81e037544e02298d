import { execFile } from 'node:child_process';
import { REPO_ROOT } from '../../devstack/paths';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs bin/rotor as a subprocess against `apiUrl`, as a user would, with only PATH inherited. */
export function runCli(
  apiUrl: string,
  token: string | undefined,
  ...args: string[]
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      'bin/rotor',
      args,
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH,
          ROTOR_API_URL: apiUrl,
          ...(token ? { ROTOR_TOKEN: token } : {}),
        },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
