// Frozen in time: imports nothing from the app.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * Takes a chain's advisory lock and reads its head in one round trip. The function is VOLATILE,
 * so the SELECT inside it takes its snapshot after the lock is granted and sees the head the
 * previous holder committed (one statement doing both would read with a snapshot taken before
 * waiting). The lock is the same pg_advisory_xact_lock(namespace, hashtext(key)) as before, so
 * processes still on the older code keep excluding these.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function rotor_audit_lock_chain(namespace integer, key text)
      returns table (last_seq bigint, last_hash text)
      language plpgsql volatile as $$
    begin
      perform pg_advisory_xact_lock(namespace, hashtext(key));
      return query select h.last_seq, h.last_hash from audit_chain_heads h where h.chain_key = key;
    end;
    $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists rotor_audit_lock_chain(integer, text)`.execute(db);
}
