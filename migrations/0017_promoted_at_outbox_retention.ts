// Frozen in time: imports nothing from the app.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * `rotations.promoted_at`: when the new value became what consumers read. On the
 * fewer-round-trips path a rotation is promoted and finished in one transaction, so its status
 * goes straight to COMPLETED and PROMOTED is never seen; the time of the promotion is kept here
 * instead (rows from before take it from their `rotation.promoted` audit row).
 *
 * The outbox's delivered rows by delivery time: what the retention job deletes, oldest first,
 * without reading the rows still waiting.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('rotations').addColumn('promoted_at', 'timestamptz').execute();
  await sql`
    update rotations r set promoted_at = a.occurred_at
    from audit_events a
    where a.rotation_id = r.id and a.action = 'rotation.promoted' and r.promoted_at is null`.execute(
    db,
  );
  await db.schema
    .createIndex('notification_outbox_delivered_idx')
    .on('notification_outbox')
    .columns(['delivered_at', 'id'])
    .where(sql.ref('delivered_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('notification_outbox_delivered_idx').execute();
  await db.schema.alterTable('rotations').dropColumn('promoted_at').execute();
}
