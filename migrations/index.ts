import type { Migration } from 'kysely';
import * as m0001 from './0001_initial';
import * as m0002 from './0002_notification_deliveries';
import * as m0004 from './0004_idempotency_keys';

/**
 * Migrations in the order they apply. A static list (not a folder scan) so the runner works the
 * same under tsx, vitest and a bundled build. Never edit an entry once released: add a new one.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_notification_deliveries': m0002,
  '0004_idempotency_keys': m0004,
};
