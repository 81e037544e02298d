import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { MariaDbTargetDeps } from '../../activities/targets/mariadb-user';
import { nativePasswordHash } from '../../activities/targets/mariadb-user';
import { freePort } from '../../devstack';
import { startMariaDb } from '../../devstack/mariadb';
import type { MariaDbServer } from '../../devstack/mariadb';

/**
 * A real MariaDB (Debian's packages, see devstack/mariadb.ts) with its general and slow logs on,
 * one per test file, started on first use. Rotor logs in as the README's least-privileged
 * rotator: the global CREATE USER privilege and nothing else.
 */
export interface MariaDbTarget {
  server: MariaDbServer;
  /** The driver's dependencies, logged in as the least-privileged rotator. */
  deps: MariaDbTargetDeps;
  /** An all-privileges connection, for setting up and asserting only. */
  admin: mysql.Pool;
  /** Creates users (unique names from these stems) at host `%`, each with its own password. */
  createUsers(...stems: string[]): Promise<{ name: string; password: string }[]>;
  /** A login rotor may use with other grants (e.g. none), for privilege tests. */
  createRotator(grants: string[]): Promise<mysql.Pool>;
  /** The same, as the user name and password (for a connection whose credential Vault holds). */
  createRotatorLogin(grants: string[]): Promise<{ username: string; password: string }>;
  /** Logs in as `user`; resolves to null on success or the server's error code. */
  loginError(user: string, password: string): Promise<string | null>;
  /** The text of one of the server's logs as it is now. */
  log(which: 'error' | 'general' | 'slow'): Promise<string>;
}

let started: Promise<MariaDbTarget> | undefined;
const cleanups: (() => Promise<unknown>)[] = [];

/** This test file's server, started on the first call. */
export function mariaDbTarget(): Promise<MariaDbTarget> {
  started ??= start();
  return started;
}

/** Stops this file's server (if it was started) and removes its data; for afterAll. */
export async function stopMariaDbTarget(): Promise<void> {
  if (!started) return;
  await started.catch(() => undefined);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  started = undefined;
}

async function start(): Promise<MariaDbTarget> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'rotor-mariadb-'));
  cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
  const server = await startMariaDb({
    port: await freePort(),
    dataDir: path.join(stateDir, 'data'),
    logFile: path.join(stateDir, 'error.log'),
    generalLog: true,
  });
  cleanups.push(() => server.stop());
  const login = { host: server.host, port: server.port };
  const admin = mysql.createPool({
    ...login,
    user: server.adminUser,
    password: server.adminPassword,
    connectionLimit: 2,
  });
  cleanups.push(() => admin.end());

  const createRotatorLogin = async (
    grants: string[],
  ): Promise<{ username: string; password: string }> => {
    const username = `rotor_${randomUUID().slice(0, 8)}`;
    const password = randomBytes(18).toString('base64url');
    const account = `${mysql.escape(username)}@'%'`;
    await admin.query(
      `CREATE USER ${account} IDENTIFIED BY PASSWORD ${mysql.escape(nativePasswordHash(password))}`,
    );
    for (const grant of grants) await admin.query(`GRANT ${grant} TO ${account}`);
    return { username, password };
  };
  const createRotator = async (grants: string[]): Promise<mysql.Pool> => {
    const { username: user, password } = await createRotatorLogin(grants);
    const pool = mysql.createPool({ ...login, user, password, connectionLimit: 2 });
    cleanups.push(() => pool.end());
    return pool;
  };
  const rotator = await createRotator(['CREATE USER ON *.*']);

  return {
    server,
    deps: { admin: rotator, login },
    admin,
    createRotator,
    createRotatorLogin,
    async createUsers(...stems) {
      const users = stems.map((stem) => ({
        name: `${stem}_${randomUUID().slice(0, 8)}`,
        password: randomBytes(18).toString('base64url'),
      }));
      for (const { name, password } of users) {
        await admin.query(
          `CREATE USER ${mysql.escape(name)}@'%' IDENTIFIED BY PASSWORD ${mysql.escape(nativePasswordHash(password))}`,
        );
        // A consumer's usual grant, so a login can run a query.
        await admin.query(`GRANT USAGE ON *.* TO ${mysql.escape(name)}@'%'`);
      }
      return users;
    },
    async loginError(user, password) {
      let connection: mysql.Connection | undefined;
      try {
        connection = await mysql.createConnection({ ...login, user, password });
        await connection.query('SELECT 1');
        return null;
      } catch (err) {
        return String((err as { errno?: number }).errno ?? 'unknown');
      } finally {
        await connection?.end().catch(() => undefined);
      }
    },
    async log(which) {
      const file = server.logs[which];
      if (!file) throw new Error(`the ${which} log is not on`);
      return readFile(file, 'utf8');
    },
  };
}
