import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import type { NotifyDeps } from './notify/deps';
import type { TargetRegistry } from './targets/driver';
import type { VaultKv } from '../vault';

/** The clients activities are built over. Only workers/ (and tests) construct real ones. */
export interface ActivityDeps {
  db: Kysely<Database>;
  vault: VaultKv;
  /** Mail and Slack clients (when configured) and where notifications go. */
  notify: Omit<NotifyDeps, 'db'>;
  /** One driver per rotation target kind (PostgreSQL roles, tenant API keys). */
  targets: TargetRegistry;
}
