// Frozen in time: imports nothing from the app.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/** MariaDB / MySQL connections: the kind check admits 'mariadb' beside postgres and redis. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table connections drop constraint if exists connections_kind_check`.execute(db);
  await sql`alter table connections add constraint connections_kind_check
    check (kind in ('postgres', 'redis', 'mariadb'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from connections where kind = 'mariadb'`.execute(db);
  await sql`alter table connections drop constraint if exists connections_kind_check`.execute(db);
  await sql`alter table connections add constraint connections_kind_check
    check (kind in ('postgres', 'redis'))`.execute(db);
}
