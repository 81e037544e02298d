// Frozen in time: imports nothing from the app.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * Notification events waiting for their tenant's notifier: written once per event (its id comes
 * from the workflow step that raised it), claimed into a digest, marked delivered. A signal to the
 * notifier is only a wake-up; what must go out is here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notification_outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    // The raising workflow's id, run id and activity id: a retried enqueue writes nothing new.
    .addColumn('event_id', 'text', (c) => c.notNull().unique())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) =>
      c.notNull().check(sql`audience in ('tenant', 'security', 'ops')`),
    )
    // Kinds, names, ids, versions and times only, as notifications have always carried.
    .addColumn('event', 'jsonb', (c) => c.notNull())
    // The digest that took it; null while waiting.
    .addColumn('digest_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('notification_outbox_waiting_idx')
    .on('notification_outbox')
    .columns(['tenant_id', 'id'])
    .where(sql.ref('digest_id'), 'is', null)
    .execute();
  await db.schema
    .createIndex('notification_outbox_digest_idx')
    .on('notification_outbox')
    .columns(['digest_id', 'audience', 'id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_outbox').execute();
}
