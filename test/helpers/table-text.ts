import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';

/**
 * Every base table of the engine database with its rows as JSON text, for a plaintext hunt.
 * The table list comes from information_schema, so a table added later is checked without
 * editing any list.
 */
export async function engineTablesAsText(
  db: Kysely<Database>,
): Promise<{ table: string; text: string }[]> {
  const { rows: tables } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE'
  `.execute(db);
  const out: { table: string; text: string }[] = [];
  for (const { table_name: table } of tables) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
    out.push({ table, text: JSON.stringify(rows.rows) });
  }
  return out;
}
