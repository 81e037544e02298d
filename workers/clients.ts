import { Connection, Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { LogLevel, WebClient } from '@slack/web-api';
import nodeVault from 'node-vault';
import nodemailer from 'nodemailer';
import type { Config } from '../config';
import { createDb } from '../db';
import type { Database } from '../db';
import { VaultKv } from '../activities';
import type { ActivityDeps, VaultRequestObserver } from '../activities';

/** The real clients, built once per process from parsed config. Nothing else constructs them. */
export interface EngineClients {
  db: Kysely<Database>;
  vault: VaultKv;
  vaultClient: ReturnType<typeof nodeVault>;
  notify: ActivityDeps['notify'];
}

/** SMTP and Slack clients for what is configured; absent channels are skipped at delivery. */
export function buildNotifyClients(config: Config): ActivityDeps['notify'] {
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
  return {
    db: createDb(config.databaseUrl),
    vault: new VaultKv(vaultClient, config.vault.kvMount, options.observeVault),
    vaultClient,
    notify: buildNotifyClients(config),
  };
}

export async function connectTemporalClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({ connection, namespace: config.temporal.namespace });
}
