// Frozen in time: this file imports nothing from the app, so later code changes cannot alter
// what an already-applied migration meant.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('notification_settings', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('secrets')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('policy', 'jsonb', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('vault_path', 'text', (c) => c.notNull())
    .addColumn('current_version', 'integer')
    .addColumn('previous_version', 'integer')
    .addColumn('pending_version', 'integer')
    .addColumn('next_rotation_at', 'timestamptz')
    .addColumn('last_rotated_at', 'timestamptz')
    .addColumn('last_error_type', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('secrets_tenant_name_unique', ['tenant_id', 'name'])
    .execute();
  await db.schema
    .createIndex('secrets_next_rotation_idx')
    .on('secrets')
    .column('next_rotation_at')
    .execute();

  await db.schema
    .createTable('rotations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('secret_id', 'uuid', (c) => c.notNull().references('secrets.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('approved_by', 'text')
    .addColumn('from_version', 'integer')
    .addColumn('to_version', 'integer')
    .addColumn('error_type', 'text')
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('rotations_secret_idx').on('rotations').column('secret_id').execute();

  await db.schema
    .createTable('approvals')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('rotation_id', 'text', (c) => c.notNull().references('rotations.id'))
    .addColumn('approver', 'text', (c) => c.notNull())
    .addColumn('decision', 'text', (c) =>
      c.notNull().check(sql`decision in ('approved', 'rejected')`),
    )
    .addColumn('reason', 'text')
    // The Temporal update id: a retried decision is recorded once.
    .addColumn('update_id', 'text', (c) => c.notNull().unique())
    .addColumn('decided_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text')
    .addColumn('secret_id', 'uuid')
    .addColumn('rotation_id', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // Idempotency: an activity retried with the same key writes one row.
    .addColumn('idempotency_key', 'text', (c) => c.unique())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('audit_events_tenant_idx')
    .on('audit_events')
    .columns(['tenant_id', 'id'])
    .execute();

  // Append-only: the audit trail refuses edits even from the engine's own role.
  await sql`
    create function audit_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_events is append-only (% refused)', tg_op
        using errcode = 'insufficient_privilege';
    end;
    $$`.execute(db);
  await sql`
    create trigger audit_events_no_update_delete
    before update or delete on audit_events
    for each row execute function audit_events_append_only()`.execute(db);

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) =>
      c.notNull().check(sql`role in ('admin', 'security', 'operator', 'tenant')`),
    )
    .addColumn('tenant_id', 'text', (c) => c.references('tenants.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('api_tokens').execute();
  await sql`drop trigger if exists audit_events_no_update_delete on audit_events`.execute(db);
  await db.schema.dropTable('audit_events').execute();
  await sql`drop function if exists audit_events_append_only()`.execute(db);
  await db.schema.dropTable('approvals').execute();
  await db.schema.dropTable('rotations').execute();
  await db.schema.dropTable('secrets').execute();
  await db.schema.dropTable('tenants').execute();
}
