// Frozen in time: imports nothing from the app.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Connections: which target servers Rotor reaches and how. No credential column on purpose:
 * Rotor's own login for each server is kept in Vault, at a path named after the connection.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('connections')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('postgres', 'redis')`))
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull().check(sql`port between 1 and 65535`))
    .addColumn('database', 'text')
    .addColumn('tls', 'jsonb', (c) => c.notNull().defaultTo(sql`'{"mode":"disable"}'::jsonb`))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('connections').execute();
}
