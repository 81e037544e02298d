// Frozen in time: imports nothing from the app.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Webhook endpoints: where a tenant's machines hear about rotations. No secret column on purpose:
 * each endpoint's signing secret lives in Vault, at a path named after the tenant and the id.
 * notification_deliveries gains the webhook channel and one row per attempt (its number and the
 * receiver's HTTP status); 'retrying' marks an attempt that failed with more to come.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull().check(sql`length(url) <= 2048`))
    // The event kinds it receives (a JSON array of strings).
    .addColumn('events', 'jsonb', (c) => c.notNull())
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('secret_rotated_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('webhook_endpoints_tenant_idx')
    .on('webhook_endpoints')
    .columns(['tenant_id', 'created_at'])
    .execute();

  await sql`alter table notification_deliveries drop constraint if exists notification_deliveries_channel_check`.execute(
    db,
  );
  await sql`alter table notification_deliveries add constraint notification_deliveries_channel_check
    check (channel in ('email', 'slack', 'webhook'))`.execute(db);
  await sql`alter table notification_deliveries drop constraint if exists notification_deliveries_status_check`.execute(
    db,
  );
  await sql`alter table notification_deliveries add constraint notification_deliveries_status_check
    check (status in ('sent', 'failed', 'retrying'))`.execute(db);
  await db.schema
    .alterTable('notification_deliveries')
    .addColumn('endpoint_id', 'text')
    .addColumn('attempt', 'integer')
    .addColumn('http_status', 'integer')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from notification_deliveries where channel = 'webhook'`.execute(db);
  await db.schema
    .alterTable('notification_deliveries')
    .dropColumn('endpoint_id')
    .dropColumn('attempt')
    .dropColumn('http_status')
    .execute();
  await sql`alter table notification_deliveries drop constraint if exists notification_deliveries_status_check`.execute(
    db,
  );
  await sql`alter table notification_deliveries add constraint notification_deliveries_status_check
    check (status in ('sent', 'failed'))`.execute(db);
  await sql`alter table notification_deliveries drop constraint if exists notification_deliveries_channel_check`.execute(
    db,
  );
  await sql`alter table notification_deliveries add constraint notification_deliveries_channel_check
    check (channel in ('email', 'slack'))`.execute(db);
  await db.schema.dropTable('webhook_endpoints').execute();
}
