// Frozen in time: imports nothing from the app.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * AWS connections: the kind check admits 'aws', and two columns say where IAM and STS are (a
 * region, and an endpoint for AWS-compatible servers). host and port stay filled (the endpoint's,
 * or AWS's own), so every other reader of the table keeps working. No credential column: Rotor's
 * access key lives in Vault like every connection's credential.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table connections drop constraint if exists connections_kind_check`.execute(db);
  await sql`alter table connections add constraint connections_kind_check
    check (kind in ('postgres', 'redis', 'mariadb', 'aws'))`.execute(db);
  await db.schema.alterTable('connections').addColumn('region', 'text').execute();
  await db.schema.alterTable('connections').addColumn('endpoint', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from connections where kind = 'aws'`.execute(db);
  await db.schema.alterTable('connections').dropColumn('endpoint').execute();
  await db.schema.alterTable('connections').dropColumn('region').execute();
  await sql`alter table connections drop constraint if exists connections_kind_check`.execute(db);
  await sql`alter table connections add constraint connections_kind_check
    check (kind in ('postgres', 'redis', 'mariadb'))`.execute(db);
}
