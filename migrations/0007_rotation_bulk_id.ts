// Frozen in time: imports nothing from the app.
import type { Kysely } from 'kysely';

/**
 * The bulk batch a rotation belongs to, as a column: progress was found by matching
 * `reason LIKE '% (bulk <id>)'`, free text used as a join key.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('rotations').addColumn('bulk_id', 'text').execute();
  await db.schema
    .createIndex('rotations_bulk_id')
    .on('rotations')
    .column('bulk_id')
    .where('bulk_id', 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('rotations_bulk_id').execute();
  await db.schema.alterTable('rotations').dropColumn('bulk_id').execute();
}
