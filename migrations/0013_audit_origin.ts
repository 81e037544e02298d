// Frozen in time: imports nothing from the app.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Who called from where: the client IP and user agent of the API request behind an audit row,
 * and the chain format each row was hashed with. Rows written before this migration are format 1
 * (rotor-audit-v1, which covers neither column, so both stay null on them); new rows are format 2,
 * whose hash covers both. The default of 1 keeps a process still on older code correct during a
 * rolling upgrade: it inserts v1 rows without the new columns, and they verify as v1.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ['audit_events', 'audit_events_archive']) {
    await sql`alter table ${sql.table(table)}
      add column client_ip text,
      add column user_agent text,
      add column chain_format smallint not null default 1`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['audit_events', 'audit_events_archive']) {
    await sql`alter table ${sql.table(table)}
      drop column client_ip, drop column user_agent, drop column chain_format`.execute(db);
  }
}
