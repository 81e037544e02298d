// Frozen in time: imports nothing from the app.
import type { Kysely } from 'kysely';

/**
 * Which connection a secret's target names, recorded when the secret is registered, so deleting a
 * connection that secrets still use can be refused. Null for secrets without a named connection
 * (no target, the default PostgreSQL connection) and for secrets registered before this column.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('secrets').addColumn('target_connection', 'text').execute();
  await db.schema
    .createIndex('secrets_target_connection_idx')
    .on('secrets')
    .column('target_connection')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('secrets_target_connection_idx').execute();
  await db.schema.alterTable('secrets').dropColumn('target_connection').execute();
}
