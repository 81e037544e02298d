import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { ApplicationFailure } from '@temporalio/common';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { Kysely } from 'kysely';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type {
  AwsTargetDeps,
  ConnectionResolver,
  MariaDbTargetDeps,
  PostgresTargetDeps,
  RedisTargetDeps,
} from './target-deps';
import { findConnection, readConnectionCredential } from '../connections';
import type { Database } from '../db';
import { ConnectionKind, ErrorType, TlsMode, connectionCredentialPath } from '../domain';
import type { ConnectionCredential, ConnectionSpec, ConnectionTls } from '../domain';
import type { VaultKv } from '../vault';

const CONNECT_TIMEOUT_MS = 5_000;

/** TLS options for pg and node:tls from a connection's settings. */
export function tlsOptions(
  tls: ConnectionTls,
  host: string,
): false | { rejectUnauthorized: boolean; ca?: string; servername?: string } {
  if (tls.mode === TlsMode.Disable) return false;
  return {
    rejectUnauthorized: tls.mode === TlsMode.VerifyFull,
    ...(tls.caPem ? { ca: tls.caPem } : {}),
    servername: tls.serverName ?? host,
  };
}

/** A Redis client that connects on demand, never reconnects or queues, and logs in explicitly. */
function redisClient(spec: Pick<ConnectionSpec, 'host' | 'port' | 'tls'>): Redis {
  const tls = tlsOptions(spec.tls, spec.host);
  const options: RedisOptions = {
    host: spec.host,
    port: spec.port,
    lazyConnect: true,
    // RESP2: no HELLO handshake, so the explicit AUTH below is the first command on the wire.
    protocol: 2,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: CONNECT_TIMEOUT_MS,
    ...(tls ? { tls } : {}),
  };
  const client = new Redis(options);
  // Reported through the command that failed; an unhandled 'error' event would crash the worker.
  client.on('error', () => undefined);
  return client;
}

/** Opens a session as `user`, runs fn, and always closes the socket. AUTH is the first command. */
export async function withRedisSession<T>(
  spec: Pick<ConnectionSpec, 'host' | 'port' | 'tls'>,
  credential: ConnectionCredential,
  fn: (client: Redis) => Promise<T>,
): Promise<T> {
  const client = redisClient(spec);
  let socketError: Error | undefined;
  client.on('error', (err: Error) => (socketError ??= err));
  try {
    try {
      await client.connect();
    } catch (err) {
      throw socketError ?? err;
    }
    await client.call('AUTH', credential.username, credential.password);
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/**
 * Reaching the server or logging in as the rotator failed: typed, retried, and saying which,
 * with the error's code or the server's reply word, never the credential.
 */
function redisSessionFailure(err: unknown, spec: Pick<ConnectionSpec, 'host' | 'port'>) {
  const message = err instanceof Error ? err.message : String(err);
  const reply = /^[A-Z]{2,}\b/.exec(message)?.[0];
  const code = (err as { code?: unknown }).code;
  if (reply === 'WRONGPASS') {
    return ApplicationFailure.retryable(
      `Redis at ${spec.host}:${spec.port} refused the rotator's login (WRONGPASS): check the connection's credential`,
      ErrorType.TargetRejected,
    );
  }
  return ApplicationFailure.retryable(
    `Redis at ${spec.host}:${spec.port} could not be reached (${typeof code === 'string' ? code : (reply ?? 'connection error')})`,
    ErrorType.TargetRejected,
  );
}

/** The Redis driver's view of one connection. */
export function redisTargetDeps(
  spec: Pick<ConnectionSpec, 'host' | 'port' | 'tls'>,
  credential: ConnectionCredential,
): RedisTargetDeps {
  return {
    rotatorUser: credential.username,
    withAdmin: async (fn) => {
      let opened = false;
      try {
        return await withRedisSession(spec, credential, (client) => {
          opened = true;
          return fn({ call: (command, ...args) => client.call(command, ...args) });
        });
      } catch (err) {
        if (opened || err instanceof ApplicationFailure) throw err;
        throw redisSessionFailure(err, spec);
      }
    },
    // AUTH answering OK is the proof: it names the user, and consumers need no other command.
    login: (user, password) =>
      withRedisSession(spec, { username: user, password }, () => Promise.resolve()),
  };
}

/** A pool on a PostgreSQL connection that survives the server dropping it. */
export function postgresTargetPool(
  spec: Pick<ConnectionSpec, 'host' | 'port' | 'database' | 'tls'>,
  credential: ConnectionCredential,
): { pool: pg.Pool; deps: PostgresTargetDeps } {
  const login = {
    host: spec.host,
    port: spec.port,
    database: spec.database ?? 'postgres',
    ssl: tlsOptions(spec.tls, spec.host),
  };
  const pool = new pg.Pool({
    ...login,
    user: credential.username,
    password: credential.password,
    max: 4,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return { pool, deps: { admin: pool, login } };
}

/** A pool on a MariaDB / MySQL connection; mysql2 drops a connection the server closed. */
export function mariaDbTargetPool(
  spec: Pick<ConnectionSpec, 'host' | 'port' | 'tls'>,
  credential: ConnectionCredential,
): { pool: mysql.Pool; deps: MariaDbTargetDeps } {
  const tls = tlsOptions(spec.tls, spec.host);
  const login = { host: spec.host, port: spec.port, ...(tls ? { ssl: tls } : {}) };
  const pool = mysql.createPool({
    ...login,
    user: credential.username,
    password: credential.password,
    connectionLimit: 4,
    maxIdle: 1,
    idleTimeout: 30_000,
    connectTimeout: CONNECT_TIMEOUT_MS,
  });
  return { pool, deps: { admin: pool, login } };
}

/** The SDK settings of an aws connection: its region, endpoint, and the given access key. */
export function awsClientConfig(
  spec: Pick<ConnectionSpec, 'aws'>,
  credentials: { accessKeyId: string; secretAccessKey: string },
) {
  return {
    region: spec.aws?.region ?? 'us-east-1',
    ...(spec.aws?.endpoint ? { endpoint: spec.aws.endpoint } : {}),
    credentials,
    // The activity's retry policy retries; the SDK's own retries would only hide the failure.
    maxAttempts: 1,
  };
}

/** The AWS IAM driver's view of one aws connection: an IAM client as Rotor, STS for any key. */
export function awsTargetClients(
  spec: Pick<ConnectionSpec, 'aws'>,
  credential: ConnectionCredential,
): { iam: IAMClient; deps: AwsTargetDeps } {
  const iam = new IAMClient(
    awsClientConfig(spec, {
      accessKeyId: credential.username,
      secretAccessKey: credential.password,
    }),
  );
  return {
    iam,
    deps: { iam, stsFor: (key) => new STSClient(awsClientConfig(spec, key)) },
  };
}

/**
 * Named connections, resolved on each use from the engine database and Vault, so an edited
 * connection or a new credential takes effect at the next step. PostgreSQL pools are kept per
 * connection and replaced when the row or the credential's Vault version changes, and so are
 * MariaDB pools.
 */
export function createConnectionResolver(deps: {
  db: Kysely<Database>;
  vault: VaultKv;
}): ConnectionResolver & { close(): Promise<void> } {
  const pools = new Map<string, { key: string; pool: pg.Pool; deps: PostgresTargetDeps }>();
  const mariaDbPools = new Map<
    string,
    { key: string; pool: mysql.Pool; deps: MariaDbTargetDeps }
  >();
  const awsClients = new Map<string, { key: string; iam: IAMClient; deps: AwsTargetDeps }>();

  const load = async (name: string, kind: ConnectionKind) => {
    const spec = await findConnection(deps.db, name);
    if (!spec) {
      throw ApplicationFailure.nonRetryable(
        `connection ${name} does not exist`,
        ErrorType.TargetNotFound,
      );
    }
    if (spec.kind !== kind) {
      throw ApplicationFailure.nonRetryable(
        `connection ${name} is a ${spec.kind} connection, not ${kind}`,
        ErrorType.ValidationFailed,
      );
    }
    const stored = await readConnectionCredential(deps.vault, name);
    if (!stored) {
      throw ApplicationFailure.nonRetryable(
        `connection ${name} has no credential in Vault at ${connectionCredentialPath(name)}`,
        ErrorType.TargetRejected,
      );
    }
    return { spec, ...stored };
  };

  return {
    async postgres(name) {
      const { spec, credential, version } = await load(name, ConnectionKind.Postgres);
      const key = `${spec.updatedAt.toISOString()}#${version}`;
      const cached = pools.get(name);
      if (cached?.key === key) return cached.deps;
      if (cached) void cached.pool.end().catch(() => undefined);
      const built = postgresTargetPool(spec, credential);
      pools.set(name, { key, ...built });
      return built.deps;
    },
    async redis(name) {
      const { spec, credential } = await load(name, ConnectionKind.Redis);
      return redisTargetDeps(spec, credential);
    },
    async mariadb(name) {
      const { spec, credential, version } = await load(name, ConnectionKind.MariaDb);
      const key = `${spec.updatedAt.toISOString()}#${version}`;
      const cached = mariaDbPools.get(name);
      if (cached?.key === key) return cached.deps;
      if (cached) void cached.pool.end().catch(() => undefined);
      const built = mariaDbTargetPool(spec, credential);
      mariaDbPools.set(name, { key, ...built });
      return built.deps;
    },
    async aws(name) {
      const { spec, credential, version } = await load(name, ConnectionKind.Aws);
      const key = `${spec.updatedAt.toISOString()}#${version}`;
      const cached = awsClients.get(name);
      if (cached?.key === key) return cached.deps;
      cached?.iam.destroy();
      const built = awsTargetClients(spec, credential);
      awsClients.set(name, { key, ...built });
      return built.deps;
    },
    async close() {
      for (const c of awsClients.values()) c.iam.destroy();
      awsClients.clear();
      const all = [...pools.values()];
      const mariaDb = [...mariaDbPools.values()];
      pools.clear();
      mariaDbPools.clear();
      await Promise.all([
        ...all.map((p) => p.pool.end().catch(() => undefined)),
        ...mariaDb.map((p) => p.pool.end().catch(() => undefined)),
      ]);
    },
  };
}
