// Frozen in time: imports nothing from the app.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * A unique subject per API token: who the token's holder is, recorded as requester, approver and
 * audit actor. Token names are display labels and may repeat, so separation of duties (the
 * requester may not approve) cannot rest on them. A subject is `<name>#<8 hex>`: readable, and
 * unique by this index. Existing tokens get the first 8 hex digits of their id (all 32 where two
 * tokens of one name share those 8).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_tokens').addColumn('subject', 'text').execute();
  await sql`
    update api_tokens t set subject = c.subject
    from (
      select id,
        case when count(*) over (partition by name, left(id::text, 8)) > 1
          then name || '#' || replace(id::text, '-', '')
          else name || '#' || left(id::text, 8)
        end as subject
      from api_tokens
    ) c
    where c.id = t.id
  `.execute(db);
  await db.schema
    .alterTable('api_tokens')
    .alterColumn('subject', (c) => c.setNotNull())
    .execute();
  await db.schema
    .createIndex('api_tokens_subject_unique')
    .on('api_tokens')
    .column('subject')
    .unique()
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('api_tokens_subject_unique').execute();
  await db.schema.alterTable('api_tokens').dropColumn('subject').execute();
}
