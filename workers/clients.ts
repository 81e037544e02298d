import { Connection, Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import nodeVault from 'node-vault';
import type { Config } from '../config';
import { createDb } from '../db';
import type { Database } from '../db';
import { VaultKv } from '../activities';

/** The real clients, built once per process from parsed config. Nothing else constructs them. */
export interface EngineClients {
  db: Kysely<Database>;
  vault: VaultKv;
  vaultClient: ReturnType<typeof nodeVault>;
}

export function buildEngineClients(config: Config): EngineClients {
  const vaultClient = nodeVault({
    apiVersion: 'v1',
    endpoint: config.vault.addr,
    token: config.vault.token,
  });
  return {
    db: createDb(config.databaseUrl),
    vault: new VaultKv(vaultClient, config.vault.kvMount),
    vaultClient,
  };
}

export async function connectTemporalClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({ connection, namespace: config.temporal.namespace });
}
