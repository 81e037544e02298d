import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Config } from '../config';
import type { VaultKv } from '../vault';
import type { Database } from '../db';
import type { ListenerClientFactory } from './credential-cache';

/** What the API's routes use; engine/ builds the real ones. */
export interface ApiServices {
  db: Kysely<Database>;
  temporal: Client;
  /** `notifications`: the webhook routes' address guard (ROTOR_WEBHOOK_ALLOWED_NETWORKS). */
  config: Pick<Config, 'policy' | 'temporal' | 'targets' | 'api' | 'notifications'>;
  /**
   * Vault: the audited value-read endpoint reads through it, and supplied values are written
   * through it. Without it those endpoints answer 503.
   */
  vault?: VaultKv;
  /**
   * A new connection to the engine database for the credential cache's LISTEN; without it the
   * cache never serves and every request reads the database.
   */
  listenerClient?: ListenerClientFactory;
}
