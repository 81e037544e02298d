import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
} from '@temporalio/client';
import type { Kysely } from 'kysely';
import { LogLevel, WebClient } from '@slack/web-api';
import nodeVault from 'node-vault';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { Config, NotificationConfig } from '../config';
import { createDb } from '../db';
import type { Database } from '../db';
import pg from 'pg';
import { VaultKv } from '../vault';
import { createConnectionResolver } from './connections';
import type { ConnectionResolver } from './target-deps';
import type { VaultRequestObserver } from '../vault';

/** Mail and Slack clients, when configured, and where notifications go. */
export interface NotifyClients {
  config: NotificationConfig;
  mailer?: Transporter;
  slack?: WebClient;
}

/**
 * The connections rotation targets are driven over: the worker builds one driver per target kind
 * on them (workers/activity-deps.ts), so engine/ holds clients only, never activity code.
 */
export interface TargetConnections {
  db: Kysely<Database>;
  /** The rotator's pool on the PostgreSQL target, and where verification logs in; when configured. */
  postgres?: {
    admin: pg.Pool;
    login: { host: string; port: number; database: string };
  };
  /** Named connections (engine database rows, credentials in Vault). */
  connections: ConnectionResolver;
  apiKeyPepper?: string;
}

/** The real clients, built once per process from parsed config. Nothing else constructs them. */
export interface EngineClients {
  db: Kysely<Database>;
  vault: VaultKv;
  vaultClient: ReturnType<typeof nodeVault>;
  notify: NotifyClients;
  targetConnections: TargetConnections;
  /** Pools to end on shutdown besides the engine database. */
  close(): Promise<void>;
}

/** SMTP and Slack clients for what is configured; absent channels are skipped at delivery. */
export function buildNotifyClients(config: Config): NotifyClients {
  const { smtp, slack } = config.notifications;
  return {
    config: config.notifications,
    ...(smtp
      ? {
          mailer: nodemailer.createTransport(smtp.url, {
            requireTLS: smtp.requireTLS,
            tls: { rejectUnauthorized: smtp.rejectUnauthorized },
          }),
        }
      : {}),
    ...(slack
      ? {
          slack: new WebClient(slack.token, {
            ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}),
            // Rate limits are waited out inside one attempt; other errors go to Temporal's retries.
            retryConfig: { retries: 3, factor: 1, minTimeout: 100 },
            logLevel: LogLevel.ERROR,
          }),
        }
      : {}),
  };
}

/** `observeVault` times every Vault request the activities make (workers pass their metrics'). */
export function buildEngineClients(
  config: Config,
  options: { observeVault?: VaultRequestObserver } = {},
): EngineClients {
  const vaultClient = nodeVault({
    apiVersion: 'v1',
    endpoint: config.vault.addr,
    token: config.vault.token,
  });
  const db = createDb(config.databaseUrl, { max: config.databasePoolSize });
  const postgres = buildPostgresTarget(config.targets.postgresUrl);
  const vault = new VaultKv(vaultClient, config.vault.kvMount, options.observeVault);
  const connections = createConnectionResolver({ db, vault });
  return {
    db,
    vault,
    vaultClient,
    notify: buildNotifyClients(config),
    targetConnections: {
      db,
      ...(postgres ? { postgres: postgres.deps } : {}),
      connections,
      ...(config.targets.apiKeyPepper ? { apiKeyPepper: config.targets.apiKeyPepper } : {}),
    },
    close: async () => {
      await postgres?.pool.end();
      await connections.close();
    },
  };
}

/**
 * New, unconnected clients on the engine database for the API's credential-cache LISTEN
 * (api/credential-cache.ts), one per (re)connection. TCP keepalive, so a connection that died
 * silently is noticed and the cache stops serving.
 */
export function engineListenerClients(databaseUrl: string): () => pg.Client {
  return () =>
    new pg.Client({
      connectionString: databaseUrl,
      keepAlive: true,
      // Named, so pg_stat_activity shows what the long-lived idle connection is.
      application_name: 'rotor-api-credential-listener',
    });
}

/**
 * Attempts per Temporal call from the API. The client's default is 10 (about 20 s of backoff), so
 * a request made while Temporal was down held its caller for 20 s before its 503; 3 attempts
 * (about half a second) still ride out a blip, and the 503 says when to retry.
 */
export const API_TEMPORAL_ATTEMPTS = 3;

/** The API's Temporal client: calls that fail fast enough to answer a request with a 503. */
export async function connectTemporalClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({
    address: config.temporal.address,
    interceptors: [
      makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: API_TEMPORAL_ATTEMPTS })),
    ],
  });
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** The rotator's pool on the target server; verification logs in to the same host and database. */
function buildPostgresTarget(
  url: string | undefined,
): { pool: pg.Pool; deps: NonNullable<TargetConnections['postgres']> } | undefined {
  if (!url) return undefined;
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // A connection dropped by the server must not crash the worker, idle or checked out; the next
  // query reconnects.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const parsed = new URL(url);
  return {
    pool,
    deps: {
      admin: pool,
      login: {
        host: parsed.hostname,
        port: Number(parsed.port || 5432),
        database: decodeURIComponent(parsed.pathname.slice(1)) || 'postgres',
      },
    },
  };
}
