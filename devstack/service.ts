import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

export interface Service {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code when the process ends, for whatever reason. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
  /** The last lines of the service's log, for error messages. */
  logTail(lines?: number): string;
}

// Process groups still running. Process-wide on purpose: the 'exit' hook below must reach every
// group this process started, however it ends, so Ctrl-C or a crash leaves no orphan behind.
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
});

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Starts a long-running server in its own process group with output to a log file. A separate
 * group lets stop() take down the whole tree (the Temporal CLI and anything it forks) at once.
 */
export function startService(
  name: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; logFile: string; cwd?: string },
): Service {
  const fd = openSync(options.logFile, 'a');
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} failed to start (${command})`);
  liveGroups.add(pid);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      liveGroups.delete(pid);
      resolve(code);
    });
    child.on('error', () => {
      liveGroups.delete(pid);
      resolve(null);
    });
  });

  return {
    name,
    pid,
    logFile: options.logFile,
    exited,
    logTail: (lines = 20) => tail(options.logFile, lines),
    async stop() {
      if (!liveGroups.has(pid)) return;
      killGroup(pid, 'SIGTERM');
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        killGroup(pid, 'SIGKILL');
        await exited;
      }
      // Children that outlived the leader still belong to the group.
      killGroup(pid, 'SIGKILL');
    },
  };
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
