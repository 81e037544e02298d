import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startOpenBao } from './openbao';
import { assertPortFree, freePort } from './ports';
import { startPostgres } from './postgres';
import { ensureLocalMariaDb, writeClientOptions } from './local-mariadb';
import { startMariaDb } from './mariadb';
import { startRedis } from './redis';
import { ensureRedis } from './redis-tools';
import type { PostgresServer } from './postgres';
import { since } from './progress';
import type { Progress } from './progress';
import { startTemporal } from './temporal';
import { ensureOpenBao, ensureTemporalCli } from './tools';
import type { ToolOptions } from './tools';

export interface StackPorts {
  temporal: number;
  temporalUi: number;
  openbao: number;
  openbaoCluster: number;
  postgres: number;
  redis: number;
  /** Used only when the stack is asked for MariaDB (`npm start`). */
  mariadb: number;
}

/** Where each port can be moved when the default is taken (`npm start` only). */
export const PORT_ENV_VARS: Record<keyof StackPorts, string> = {
  temporal: 'ROTOR_DEV_TEMPORAL_PORT',
  temporalUi: 'ROTOR_DEV_TEMPORAL_UI_PORT',
  openbao: 'ROTOR_DEV_OPENBAO_PORT',
  openbaoCluster: 'ROTOR_DEV_OPENBAO_CLUSTER_PORT',
  postgres: 'ROTOR_DEV_POSTGRES_PORT',
  redis: 'ROTOR_DEV_REDIS_PORT',
  mariadb: 'ROTOR_DEV_MARIADB_PORT',
};

/** The local stack's MariaDB, when it was asked for; `reason` says why it is not running. */
export type StackMariaDb =
  | {
      available: true;
      host: string;
      port: number;
      version: string;
      adminUser: string;
      /** JSON with the admin user's password (mode 0600). */
      credentialsFile: string;
      /** A client option file for `mariadb --defaults-extra-file=…` (mode 0600). */
      clientOptionsFile: string;
      /** The unpacked `mariadb` command-line client. */
      client: string;
    }
  | { available: false; reason: string };

export interface Stack {
  temporalAddress: string;
  temporalUiUrl: string;
  vaultAddr: string;
  vaultToken: string;
  kvMount: string;
  /** The engine's own database. */
  databaseUrl: string;
  /** A separate database on the same server, used as a rotation target. */
  targetDatabaseUrl: string;
  postgresAdminUrl: string;
  /** PostgreSQL's cluster: in the state folder, or under /var/lib/rotor when root's home is closed. */
  postgresClusterDir: string;
  /** Redis as its `default` (admin) user, a rotation target for Redis ACL users. */
  redisAdminUrl: string;
  /** Undefined unless asked for (`mariadb: true`). */
  mariadb?: StackMariaDb;
  stateDir: string;
  /** Process ids of the servers (each leads its own process group), for CPU accounting. */
  pids: { temporal: number; openbao: number };
  stop(): Promise<void>;
}

export const ENGINE_DATABASE = 'rotor';
export const TARGET_DATABASE = 'rotor_targets';

/**
 * Starts the real local stack (Temporal dev server, OpenBao, PostgreSQL, Redis, and MariaDB when
 * asked) under stateDir. With
 * ports 'free' every server takes a free loopback port (tests); otherwise the given ports are
 * checked first so a clash is reported by name.
 */
export async function startStack(options: {
  stateDir: string;
  ports: StackPorts | 'free';
  progress: Progress;
  /** Throwaway state (tests): PostgreSQL and Temporal's SQLite file skip fsync. */
  fast?: boolean;
  /**
   * Also start MariaDB (`npm start`). Optional there: when Debian's packages cannot be fetched the
   * stack comes up without it and says why. The tests start their own per file instead.
   */
  mariadb?: boolean;
  /** Where MariaDB's packages are looked for (tests of the unavailable path). */
  mariadbTools?: ToolOptions;
}): Promise<Stack> {
  const { progress, stateDir } = options;
  await mkdir(path.join(stateDir, 'logs'), { recursive: true });
  const free = options.ports === 'free';
  const ports = options.ports === 'free' ? await freePorts() : options.ports;
  if (options.ports !== 'free') {
    const labels: Record<keyof StackPorts, string> = {
      temporal: 'Temporal frontend',
      temporalUi: 'Temporal Web UI',
      openbao: 'OpenBao',
      openbaoCluster: 'OpenBao cluster',
      postgres: 'PostgreSQL',
      redis: 'Redis',
      mariadb: 'MariaDB',
    };
    for (const key of Object.keys(labels) as (keyof StackPorts)[]) {
      if (key === 'mariadb' && !options.mariadb) continue;
      await assertPortFree(ports[key], labels[key], PORT_ENV_VARS[key]);
    }
  }

  const [temporalBin, baoBin, redisBinary, mariaDbBinaries] = await Promise.all([
    ensureTemporalCli(progress),
    ensureOpenBao(progress),
    ensureRedis(progress),
    options.mariadb ? ensureLocalMariaDb(progress, options.mariadbTools) : undefined,
  ]);
  if (mariaDbBinaries?.available === false) progress.step(`⚠ ${mariaDbBinaries.reason}`);

  const started = Date.now();
  progress.step(
    `Starting Temporal, OpenBao, PostgreSQL, Redis${mariaDbBinaries?.available ? ' and MariaDB' : ''}`,
  );
  const logs = (name: string): string => path.join(stateDir, 'logs', `${name}.log`);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(stops.splice(0).map((stop) => stop()));
  };
  try {
    const mariaDbDir = path.join(stateDir, 'mariadb');
    const [temporal, openbao, postgres, redis, mariadb] = await Promise.all([
      onPorts(free, [ports.temporal, ports.temporalUi], ([port, uiPort]) =>
        startTemporal({
          bin: temporalBin,
          port,
          uiPort,
          dbFile: path.join(stateDir, 'temporal.sqlite'),
          durability: options.fast ? 'off' : 'normal',
          logFile: logs('temporal'),
        }),
      ).then((t) => (stops.push(() => t.service.stop()), t)),
      onPorts(free, [ports.openbao, ports.openbaoCluster], ([port, clusterPort]) =>
        startOpenBao({
          bin: baoBin,
          port,
          clusterPort,
          dataDir: path.join(stateDir, 'openbao'),
          logFile: logs('openbao'),
        }),
      ).then((o) => (stops.push(() => o.service.stop()), o)),
      onPorts(free, [ports.postgres], ([port]) =>
        startPostgres({
          port,
          dataDir: path.join(stateDir, 'postgres'),
          logFile: logs('postgres'),
          databases: [ENGINE_DATABASE, TARGET_DATABASE],
          fast: options.fast,
        }),
      ).then((p: PostgresServer) => (stops.push(() => p.stop()), p)),
      onPorts(free, [ports.redis], ([port]) =>
        startRedis({
          binary: redisBinary,
          port,
          dataDir: path.join(stateDir, 'redis'),
          logFile: logs('redis'),
        }),
      ).then((r) => (stops.push(() => r.service.stop()), r)),
      mariaDbBinaries?.available
        ? onPorts(free, [ports.mariadb], ([port]) =>
            startMariaDb({
              port,
              binaries: mariaDbBinaries.binaries,
              dataDir: path.join(mariaDbDir, 'data'),
              logFile: logs('mariadb'),
              credentialsFile: path.join(mariaDbDir, 'credentials.json'),
            }),
          ).then(async (m): Promise<StackMariaDb> => {
            stops.push(() => m.stop());
            const clientOptionsFile = path.join(mariaDbDir, 'client.cnf');
            await writeClientOptions(clientOptionsFile, {
              host: m.host,
              port: m.port,
              user: m.adminUser,
              password: m.adminPassword,
            });
            return {
              available: true,
              host: m.host,
              port: m.port,
              version: m.version,
              adminUser: m.adminUser,
              credentialsFile: path.join(mariaDbDir, 'credentials.json'),
              clientOptionsFile,
              client: path.join(mariaDbBinaries.binaries.root, 'usr', 'bin', 'mariadb'),
            };
          })
        : mariaDbBinaries,
    ]);
    progress.done(
      `Local stack ready in ${since(started)} (logs in ${path.join(stateDir, 'logs')})`,
    );
    return {
      temporalAddress: temporal.address,
      temporalUiUrl: temporal.uiUrl,
      vaultAddr: openbao.addr,
      vaultToken: openbao.token,
      kvMount: openbao.kvMount,
      databaseUrl: postgres.urlFor(ENGINE_DATABASE),
      targetDatabaseUrl: postgres.urlFor(TARGET_DATABASE),
      postgresAdminUrl: postgres.adminUrl,
      postgresClusterDir: postgres.clusterDir,
      redisAdminUrl: redis.adminUrl,
      ...(mariadb ? { mariadb } : {}),
      stateDir,
      pids: { temporal: temporal.service.pid, openbao: openbao.service.pid },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * Starts a server on its ports. A free port is only free when it was asked for: another process
 * (a second test run, a test file's own server) can bind it before this server does. On free
 * ports a failed start is tried again on fresh ones, twice, before its error is reported.
 */
async function onPorts<P extends number[], T>(
  free: boolean,
  initial: [...P],
  start: (ports: [...P]) => Promise<T>,
): Promise<T> {
  let ports = initial;
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(ports);
    } catch (err) {
      if (!free || attempt >= 3) throw err;
      const fresh: number[] = [];
      while (fresh.length < ports.length) fresh.push(await freePort());
      ports = fresh as [...P];
    }
  }
}

async function freePorts(): Promise<StackPorts> {
  // Sequential so two calls cannot hand out the same port.
  const temporal = await freePort();
  const temporalUi = await freePort();
  const openbao = await freePort();
  const openbaoCluster = await freePort();
  const postgres = await freePort();
  const redis = await freePort();
  const mariadb = await freePort();
  return { temporal, temporalUi, openbao, openbaoCluster, postgres, redis, mariadb };
}
