import { Migrator } from 'kysely';
import type { Kysely, MigrationResultSet } from 'kysely';
import { migrations } from '../migrations';

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
  });
  return migrator.migrateToLatest();
}
