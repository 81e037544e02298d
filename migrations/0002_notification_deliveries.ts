// Frozen in time: imports nothing from the app.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/** One row per digest delivery attempt that finished: sent, or failed for good. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notification_deliveries')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) =>
      c.notNull().check(sql`audience in ('tenant', 'security', 'ops')`),
    )
    .addColumn('channel', 'text', (c) => c.notNull().check(sql`channel in ('email', 'slack')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('sent', 'failed')`))
    .addColumn('event_count', 'integer', (c) => c.notNull())
    .addColumn('events', 'jsonb', (c) => c.notNull())
    .addColumn('error', 'text')
    // The digest's id: a retried delivery records one row.
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('notification_deliveries_failed_idx')
    .on('notification_deliveries')
    .columns(['status', 'created_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_deliveries').execute();
}
