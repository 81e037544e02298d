// Frozen in time: imports nothing from the app.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * Tells every listening API process when a credential it may have cached changes, so its
 * verified-credential cache never outlives a revocation: one `NOTIFY rotor_credentials` per
 * changed row, after commit, with a payload of a kind and a row id (never a hash or a value):
 * `token:<api_tokens.id>`, `key:<api_keys.id>`, `secret:<secrets.id>` (a key's `current` flag
 * follows `secrets.current_version`). Bookkeeping columns the API itself writes while serving
 * (`last_used_at`, `use_count`) change nothing a verification answers, so they notify nothing:
 * otherwise every usage flush would empty the cache.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function rotor_notify_credential() returns trigger
    language plpgsql as $$
    declare
      kind text := tg_argv[0];
      row_id text;
    begin
      if tg_op = 'UPDATE' and
         (to_jsonb(old) - 'last_used_at' - 'use_count') = (to_jsonb(new) - 'last_used_at' - 'use_count')
      then
        return null;
      end if;
      row_id := case when tg_op = 'DELETE' then old.id::text else new.id::text end;
      perform pg_notify('rotor_credentials', kind || ':' || row_id);
      return null;
    end
    $$`.execute(db);
  await sql`
    create trigger api_tokens_notify_credential
    after update or delete on api_tokens
    for each row execute function rotor_notify_credential('token')`.execute(db);
  await sql`
    create trigger api_keys_notify_credential
    after update or delete on api_keys
    for each row execute function rotor_notify_credential('key')`.execute(db);
  // Only what a key's verification answers (its secret's name and current version): the many
  // other state changes of a rotation notify nobody.
  await sql`
    create trigger secrets_notify_credential
    after update on secrets
    for each row
    when (old.current_version is distinct from new.current_version or old.name is distinct from new.name)
    execute function rotor_notify_credential('secret')`.execute(db);
  await sql`
    create trigger secrets_notify_credential_delete
    after delete on secrets
    for each row execute function rotor_notify_credential('secret')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists secrets_notify_credential_delete on secrets`.execute(db);
  await sql`drop trigger if exists secrets_notify_credential on secrets`.execute(db);
  await sql`drop trigger if exists api_keys_notify_credential on api_keys`.execute(db);
  await sql`drop trigger if exists api_tokens_notify_credential on api_tokens`.execute(db);
  await sql`drop function if exists rotor_notify_credential()`.execute(db);
}
