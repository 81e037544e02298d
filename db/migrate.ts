import { Migrator } from 'kysely';
import type { Kysely, MigrationResultSet } from 'kysely';
import { migrations } from '../migrations';

// Kysely<any>: migrations run against whatever schema the database has, not the app's types.
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
  });
  return migrator.migrateToLatest();
}

/** migrateToLatest for start-up paths: throws an Error naming the migration that failed. */
export async function migrateOrThrow(db: Kysely<any>): Promise<void> {
  const { error, results } = await migrateToLatest(db);
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
  const reason = error instanceof Error ? error.message : JSON.stringify(error);
  throw new Error(`migration ${failed} failed: ${reason}`);
}
