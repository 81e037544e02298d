// Frozen in time: imports nothing from the app.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * One row per Idempotency-Key a client sent to create-secret or rotate-now, kept until it
 * expires: a retry with the same key and request replays the stored response instead of acting
 * twice. Requests are stored only as a salted hash (a create request may carry a value), and
 * responses only for successes (ids and flags, never values).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('idempotency_keys')
    // Whose key: 'tenant:<id>' for tenant tokens, 'token:<id>' for the others.
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_salt', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    // Null while the first request is still running.
    .addColumn('status_code', 'integer')
    .addColumn('response', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pkey', ['scope', 'key'])
    .execute();
  await db.schema
    .createIndex('idempotency_keys_expires_idx')
    .on('idempotency_keys')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute();
}
