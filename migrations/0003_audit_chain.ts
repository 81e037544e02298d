// Frozen in time: imports nothing from the app. The hash below is a frozen copy of encoding
// "rotor-audit-v1" (audit/chain.ts); a chain hashed here must verify there forever.
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

const GENESIS = '0'.repeat(64);

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .sort()
        .map((k) => [k, canonical(obj[k])]),
    );
  }
  return value;
}

interface LegacyRow {
  id: string;
  tenant_id: string | null;
  secret_id: string | null;
  rotation_id: string | null;
  actor: string;
  action: string;
  outcome: string;
  details: unknown;
  idempotency_key: string | null;
  occurred_at: Date;
}

function hashV1(r: LegacyRow, seq: number, prev: string): string {
  const encoded = JSON.stringify([
    'rotor-audit-v1',
    r.tenant_id,
    String(seq),
    prev,
    r.secret_id,
    r.rotation_id,
    r.actor,
    r.action,
    r.outcome,
    JSON.stringify(canonical(r.details)),
    r.idempotency_key,
    r.occurred_at.toISOString(),
  ]);
  return createHash('sha256').update(encoded).digest('hex');
}

/**
 * Hash-chains audit_events per tenant (rows without a tenant form their own chain, key ''),
 * adds the chain heads, the archive and its checkpoints, and lets the archiver, and only it,
 * delete rows it has already copied to the archive.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table audit_events
    add column chain_seq bigint, add column prev_hash text, add column hash text`.execute(db);

  await db.schema
    .createTable('audit_chain_heads')
    .addColumn('chain_key', 'text', (c) => c.primaryKey())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .addColumn('last_hash', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Chain the rows written before this migration, in id order, as the app would have.
  await sql`alter table audit_events disable trigger audit_events_no_update_delete`.execute(db);
  const heads = new Map<string, { seq: number; hash: string }>();
  for (let after = '0'; ;) {
    const { rows } = await sql<LegacyRow>`
      select id, tenant_id, secret_id, rotation_id, actor, action, outcome, details,
             idempotency_key, occurred_at
      from audit_events where id > ${after}::bigint order by id limit 1000`.execute(db);
    if (rows.length === 0) break;
    for (const r of rows) {
      // Legacy timestamps have microseconds; keep only what a JS Date can carry, so it hashes.
      const occurredAt = new Date(r.occurred_at.getTime());
      const key = r.tenant_id ?? '';
      const prev = heads.get(key) ?? { seq: 0, hash: GENESIS };
      const seq = prev.seq + 1;
      const hash = hashV1({ ...r, occurred_at: occurredAt }, seq, prev.hash);
      await sql`update audit_events set chain_seq = ${seq}, prev_hash = ${prev.hash},
        hash = ${hash}, occurred_at = ${occurredAt} where id = ${r.id}::bigint`.execute(db);
      heads.set(key, { seq, hash });
    }
    after = rows[rows.length - 1]?.id ?? after;
  }
  await sql`alter table audit_events enable trigger audit_events_no_update_delete`.execute(db);
  for (const [key, head] of heads) {
    await db
      .insertInto('audit_chain_heads')
      .values({ chain_key: key, last_seq: head.seq, last_hash: head.hash })
      .execute();
  }

  await sql`alter table audit_events
    alter column chain_seq set not null, alter column prev_hash set not null,
    alter column hash set not null`.execute(db);
  await sql`create unique index audit_events_chain_seq_unique
    on audit_events ((coalesce(tenant_id, '')), chain_seq)`.execute(db);
  await sql`create index audit_events_occurred_idx on audit_events (occurred_at)`.execute(db);

  // Rows moved out of audit_events by the archiver, unchanged, hashes included.
  await db.schema
    .createTable('audit_events_archive')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text')
    .addColumn('secret_id', 'uuid')
    .addColumn('rotation_id', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull())
    .addColumn('idempotency_key', 'text')
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('chain_seq', 'bigint', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('archived_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('audit_events_archive_chain_idx')
    .on('audit_events_archive')
    .columns(['tenant_id', 'id'])
    .execute();
  // appendAudit's idempotency check looks here too, once per append.
  await db.schema
    .createIndex('audit_events_archive_key_idx')
    .on('audit_events_archive')
    .column('idempotency_key')
    .execute();

  // One row per archived segment: where the live chain now starts.
  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('chain_key', 'text', (c) => c.notNull())
    .addColumn('through_seq', 'bigint', (c) => c.notNull())
    .addColumn('through_hash', 'text', (c) => c.notNull())
    .addColumn('through_id', 'bigint', (c) => c.notNull())
    .addColumn('row_count', 'integer', (c) => c.notNull())
    .addColumn('cutoff', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('audit_checkpoints_chain_idx')
    .on('audit_checkpoints')
    .columns(['chain_key', 'id'])
    .execute();

  // The archive and its checkpoints never change once written.
  await sql`
    create function rotor_append_only() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only (% refused)', tg_table_name, tg_op
        using errcode = 'insufficient_privilege';
    end;
    $$`.execute(db);
  for (const table of ['audit_events_archive', 'audit_checkpoints']) {
    await sql`create trigger ${sql.raw(`${table}_append_only`)}
      before update or delete on ${sql.table(table)}
      for each row execute function rotor_append_only()`.execute(db);
    await sql`create trigger ${sql.raw(`${table}_no_truncate`)}
      before truncate on ${sql.table(table)}
      for each statement execute function rotor_append_only()`.execute(db);
  }

  // DELETE only by the archiver (a transaction-local setting) and only of a row whose exact copy
  // is already in the archive. UPDATE and TRUNCATE stay refused for everyone.
  await sql`
    create or replace function audit_events_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE'
         and current_setting('rotor.audit_archiving', true) = 'on'
         and exists (select 1 from audit_events_archive a
                     where a.id = old.id and a.hash = old.hash) then
        return old;
      end if;
      raise exception 'audit_events is append-only (% refused)', tg_op
        using errcode = 'insufficient_privilege';
    end;
    $$`.execute(db);
  await sql`create trigger audit_events_no_truncate before truncate on audit_events
    for each statement execute function audit_events_append_only()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists audit_events_no_truncate on audit_events`.execute(db);
  await sql`
    create or replace function audit_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_events is append-only (% refused)', tg_op
        using errcode = 'insufficient_privilege';
    end;
    $$`.execute(db);
  await db.schema.dropTable('audit_checkpoints').execute();
  await db.schema.dropTable('audit_events_archive').execute();
  await sql`drop function if exists rotor_append_only()`.execute(db);
  await sql`drop index if exists audit_events_occurred_idx`.execute(db);
  await sql`drop index if exists audit_events_chain_seq_unique`.execute(db);
  await db.schema.dropTable('audit_chain_heads').execute();
  await sql`alter table audit_events
    drop column chain_seq, drop column prev_hash, drop column hash`.execute(db);
}
