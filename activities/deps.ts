import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import type { VaultKv } from './vault/kv';

/** The clients activities are built over. Only workers/ (and tests) construct real ones. */
export interface ActivityDeps {
  db: Kysely<Database>;
  vault: VaultKv;
}
