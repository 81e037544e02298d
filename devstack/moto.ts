import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { DevstackError } from './errors';
import { isExecutable, run, which } from './exec';
import { TOOLS_DIR } from './paths';
import { waitFor } from './ports';
import { since } from './progress';
import type { Progress } from './progress';
import { startService } from './service';
import type { Service } from './service';
import type { ToolOptions } from './tools';

/**
 * moto, pinned: a local AWS-compatible server (IAM and STS here) from PyPI. AWS itself cannot be
 * reached from these machines, so the AWS IAM target is tested against it; it is a stand-in.
 */
export const MOTO_VERSION = '5.1.22';

/**
 * `moto_server`: $MOTO_SERVER, else `moto_server` on PATH, else a virtualenv with
 * `moto[server]==MOTO_VERSION` built once into .tools/moto/<version>/. The venv is built in a
 * scratch folder and renamed into place only when complete, so an interrupted install is redone.
 */
export async function ensureMoto(progress: Progress, options: ToolOptions = {}): Promise<MotoTool> {
  const { toolsDir = TOOLS_DIR, env = process.env } = options;
  const fromEnv = env.MOTO_SERVER;
  if (fromEnv) {
    if (!(await isExecutable(fromEnv))) {
      throw new DevstackError(
        'ROT_DEV_BAD_TOOL_PATH',
        `MOTO_SERVER is set to "${fromEnv}", which is not an executable file.`,
        'Fix the path, or unset MOTO_SERVER to let Rotor install its own copy.',
      );
    }
    return { command: fromEnv, args: [] };
  }
  const onPath = await which('moto_server', env);
  if (onPath) return { command: onPath, args: [] };

  const home = path.join(toolsDir, 'moto', MOTO_VERSION);
  const installed = venvTool(home);
  if (await isExecutable(installed.command)) return installed;

  const python = (await which('python3', env)) ?? (await which('python', env));
  if (!python) {
    throw new DevstackError(
      'ROT_DEV_NO_PYTHON',
      'moto (the local AWS-compatible server the AWS IAM tests use) is not installed, and Python is not available to install it from PyPI.',
      "Install Python 3 with venv and pip (e.g. `apt-get install python3-venv python3-pip`), or `pip install 'moto[server]'` and put `moto_server` on PATH, or set MOTO_SERVER.",
    );
  }
  const scratch = `${home}.partial-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(path.dirname(home), { recursive: true });
  const started = Date.now();
  progress.step(`Installing moto ${MOTO_VERSION} from PyPI into a virtualenv (first run only)`);
  const venv = await run(python, ['-m', 'venv', scratch], { env });
  if (venv.code !== 0) {
    throw new DevstackError(
      'ROT_DEV_MOTO_INSTALL',
      `Creating a Python virtualenv for moto failed (python exited ${String(venv.code)}):\n${venv.output.slice(-3000)}`,
      'Install the venv module (e.g. `apt-get install python3-venv`), or install moto yourself and set MOTO_SERVER; the next run retries from scratch.',
    );
  }
  const pip = await run(
    path.join(scratch, 'bin', 'python'),
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      `moto[server]==${MOTO_VERSION}`,
    ],
    { env },
  );
  if (pip.code !== 0) {
    throw new DevstackError(
      'ROT_DEV_MOTO_INSTALL',
      `Installing moto[server]==${MOTO_VERSION} from PyPI failed (pip exited ${String(pip.code)}):\n${pip.output.slice(-3000)}`,
      'Check that PyPI is reachable and pip works in a venv (`python3 -m venv /tmp/v && /tmp/v/bin/pip --version`); the next run retries from scratch.',
    );
  }
  await rm(home, { recursive: true, force: true });
  await rename(scratch, home);
  progress.done(`moto ${MOTO_VERSION} installed in ${since(started)}`);
  return installed;
}

/** How to run moto's server: a command and the arguments that come before moto's own. */
export interface MotoTool {
  command: string;
  args: string[];
}

/**
 * moto's server run as a module of the venv's interpreter: the venv's `moto_server` script names
 * the scratch folder's interpreter in its #! line, which the rename into place left behind.
 */
function venvTool(home: string): MotoTool {
  return { command: path.join(home, 'bin', 'python'), args: ['-m', 'moto.server'] };
}

export interface MotoServer {
  /** e.g. http://127.0.0.1:40123, for the AWS SDK's `endpoint`. */
  endpoint: string;
  /** moto's own request recording (every request with its body), where the plaintext hunt looks. */
  recordingFile: string;
  service: Service;
  stop(): Promise<void>;
}

/**
 * Runs `moto_server -H 127.0.0.1 -p <port>` and waits until it answers. Request recording is
 * switched on (MOTO_ENABLE_RECORDING) and started, so every request the server received, body
 * included, is in `recordingFile`: the log a plaintext hunt reads.
 */
export async function startMoto(options: {
  tool: MotoTool;
  port: number;
  logFile: string;
  recordingFile: string;
}): Promise<MotoServer> {
  const endpoint = `http://127.0.0.1:${options.port}`;
  const service = startService(
    'moto',
    options.tool.command,
    [...options.tool.args, '-H', '127.0.0.1', '-p', String(options.port)],
    {
      logFile: options.logFile,
      env: {
        ...process.env,
        MOTO_ENABLE_RECORDING: 'True',
        MOTO_RECORDER_FILEPATH: options.recordingFile,
      },
    },
  );
  try {
    await waitFor(
      'moto',
      async () => {
        const res = await fetch(`${endpoint}/moto-api/recorder/start-recording`, {
          method: 'POST',
        });
        if (!res.ok) throw new Error(`moto answered ${res.status}`);
      },
      { timeoutMs: 60_000, abort: service.exited },
    );
  } catch (err) {
    await service.stop();
    throw new DevstackError(
      'ROT_DEV_MOTO_START',
      `moto did not start on ${endpoint}: ${err instanceof Error ? err.message : String(err)}\n${service.logTail()}`,
      `Its log is ${options.logFile}.`,
    );
  }
  return { endpoint, recordingFile: options.recordingFile, service, stop: () => service.stop() };
}
