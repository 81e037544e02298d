// Frozen in time: imports nothing from the app.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * A bulk batch as a row, so its progress is read from the database: the batch workflow used to
 * count its rotations with an activity that, during a large emergency, waited behind the very
 * rotations it counted (0 completed reported until the end), and a batch whose workflow Temporal
 * could not answer for read as not found. `requested`/`unreachable` are null until the batch has
 * asked every secret. No reason or value is kept here: the rotation rows carry the reason.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('bulk_batches')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text')
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('requested', 'integer')
    .addColumn('unreachable', 'integer')
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('bulk_batches').execute();
}
