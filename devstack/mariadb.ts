import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { nativePasswordHash } from '../activities/targets/mariadb-user/native-password';
import { DevstackError } from './errors';
import { run } from './exec';
import { ensureMariaDb } from './mariadb-binaries';
import type { MariaDbBinaries } from './mariadb-binaries';
import { waitFor } from './ports';
import type { Progress } from './progress';

export interface MariaDbServer {
  host: string;
  port: number;
  /** Rotor's admin login on this server (all privileges; tests narrow it as the README says). */
  adminUser: string;
  adminPassword: string;
  /** The server's version as it reports it (SELECT VERSION()). */
  version: string;
  /** Where the server writes each log; general and slow only when generalLog was asked for. */
  logs: { error: string; general?: string; slow?: string };
  stop(): Promise<void>;
}

const ADMIN_USER = 'rotor_admin';
const READY = 'ready for connections';

/**
 * A real MariaDB from Debian's packages (see ensureMariaDb), on 127.0.0.1:`port`. The data folder
 * is initialised once with mariadb-install-db; each start creates a fresh admin login with a
 * random password over the server's Unix socket (root has no password and no TCP login), sent as
 * a mysql_native_password hash. With `generalLog`, every statement is written to the general log
 * and to the slow log (long_query_time=0), so tests can hunt them for plaintext.
 */
export async function startMariaDb(options: {
  port: number;
  dataDir: string;
  /** The server's error log (its stderr). */
  logFile: string;
  generalLog?: boolean;
  progress?: Progress;
  binaries?: MariaDbBinaries;
  /**
   * Keep the admin password in this file (JSON, mode 0600) so it survives restarts (`npm start`);
   * without it each start makes a new one.
   */
  credentialsFile?: string;
}): Promise<MariaDbServer> {
  const binaries = options.binaries ?? (await ensureMariaDb(options.progress));
  const basedir = path.join(binaries.root, 'usr');
  const env = { ...process.env, LD_LIBRARY_PATH: binaries.libDir, LC_ALL: 'C' };
  // mariadbd refuses to run as root unless told to; as anyone else it runs as that user.
  const asUser = userInfo().uid === 0 ? ['--user=root'] : [];
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await mkdir(path.dirname(path.resolve(options.logFile)), { recursive: true });

  const initialised = await access(path.join(dataDir, 'mysql')).then(
    () => true,
    () => false,
  );
  if (!initialised) {
    const init = await run(
      binaries.installDb,
      [
        '--no-defaults',
        `--basedir=${basedir}`,
        `--datadir=${dataDir}`,
        ...asUser,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
      ],
      { env },
    );
    if (init.code !== 0) {
      await rm(path.join(dataDir, 'mysql'), { recursive: true, force: true });
      throw new DevstackError(
        'ROT_DEV_MARIADB_INIT',
        `mariadb-install-db failed (exit ${String(init.code)}):\n${init.output.slice(-3000)}`,
        `Check that ${dataDir} is writable and has free space; the next start retries.`,
      );
    }
  }

  // A short private folder: Unix socket paths are limited to 107 bytes.
  const socketDir = await mkdtemp(path.join(tmpdir(), 'rotor-mariadb-'));
  const socket = path.join(socketDir, 'mysqld.sock');
  const logs: MariaDbServer['logs'] = { error: path.resolve(options.logFile) };
  if (options.generalLog) {
    logs.general = path.join(dataDir, 'general.log');
    logs.slow = path.join(dataDir, 'slow.log');
  }
  const child = spawn(
    binaries.mariadbd,
    [
      '--no-defaults',
      `--basedir=${basedir}`,
      `--datadir=${dataDir}`,
      `--port=${options.port}`,
      '--bind-address=127.0.0.1',
      `--socket=${socket}`,
      `--pid-file=${path.join(socketDir, 'mysqld.pid')}`,
      `--lc-messages-dir=${binaries.messagesDir}`,
      ...asUser,
      // Logins match users by address (127.0.0.1, %), never by a reverse DNS lookup.
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=32M',
      '--innodb-flush-log-at-trx-commit=2',
      '--max-connections=300',
      ...(logs.general && logs.slow
        ? [
            '--log-output=FILE',
            '--general-log=1',
            `--general-log-file=${logs.general}`,
            '--slow-query-log=1',
            `--slow-query-log-file=${logs.slow}`,
            '--long-query-time=0',
            '--log-slow-admin-statements=1',
          ]
        : []),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const log = (chunk: Buffer): void => appendFileSync(logs.error, chunk);
  child.stdout.on('data', log);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(socketDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stderr.on('data', (chunk: Buffer) => {
        log(chunk);
        seen = (seen + chunk.toString('utf8')).slice(-4000);
        if (seen.includes(READY)) resolve();
      });
      child.once('error', reject);
      void exited.then(() =>
        reject(
          new DevstackError(
            'ROT_DEV_MARIADB_START',
            `mariadbd exited during start-up:\n${seen.slice(-2000)}`,
            `See ${logs.error}; is port ${options.port} free?`,
          ),
        ),
      );
    });
    const adminPassword = options.credentialsFile
      ? await readOrCreatePassword(options.credentialsFile)
      : randomBytes(18).toString('base64url');
    const root = await waitFor(
      'MariaDB (socket)',
      () => mysql.createConnection({ socketPath: socket, user: 'root' }),
      { timeoutMs: 30_000, abort: exited },
    );
    let version: string;
    try {
      const account = `'${ADMIN_USER}'@'%'`;
      await root.query(`DROP USER IF EXISTS ${account}`);
      await root.query(
        `CREATE USER ${account} IDENTIFIED BY PASSWORD '${nativePasswordHash(adminPassword)}'`,
      );
      await root.query(`GRANT ALL PRIVILEGES ON *.* TO ${account} WITH GRANT OPTION`);
      const [rows] = await root.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
      version = String(rows[0]?.v);
    } finally {
      await root.end();
    }
    return {
      host: '127.0.0.1',
      port: options.port,
      adminUser: ADMIN_USER,
      adminPassword,
      version,
      logs,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function readOrCreatePassword(file: string): Promise<string> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { password?: unknown };
    if (typeof parsed.password === 'string') return parsed.password;
  } catch {
    // First start.
  }
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, JSON.stringify({ user: ADMIN_USER, password }), { mode: 0o600 });
  return password;
}
