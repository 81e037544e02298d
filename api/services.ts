import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Config } from '../config';
import type { VaultKv } from '../activities';
import type { Database } from '../db';

/** What the API's routes use; workers/ builds the real ones. */
export interface ApiServices {
  db: Kysely<Database>;
  temporal: Client;
  config: Pick<Config, 'policy' | 'temporal'>;
  /**
   * Vault, for the audited value-read endpoint only (the API never writes values). Without it
   * that endpoint answers 503.
   */
  vault?: Pick<VaultKv, 'read' | 'metadata'>;
}
