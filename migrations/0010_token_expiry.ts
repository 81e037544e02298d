// Frozen in time: imports nothing from the app.
import type { Kysely } from 'kysely';

/**
 * API tokens that expire and can be revoked by someone: `expires_at` (null: never, as every token
 * created before this migration and the bootstrap admin token), and who revoked a token and why
 * (`revoked_at` and `last_used_at` exist since 0001). Numbered 0010: 0008 and 0009 are reserved
 * for work in progress elsewhere.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('api_tokens')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('revoked_by', 'text')
    .addColumn('revoked_reason', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('api_tokens')
    .dropColumn('expires_at')
    .dropColumn('revoked_by')
    .dropColumn('revoked_reason')
    .execute();
}
