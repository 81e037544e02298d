import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema';
import { GENESIS_HASH, auditHash, chainKey } from './chain';

export interface AuditEntry {
  tenantId: string | null;
  secretId?: string | null;
  rotationId?: string | null;
  actor: string;
  action: string;
  outcome: 'success' | 'failure' | 'refused' | 'info';
  /** Ids, versions and error types only: never a value. */
  details?: Record<string, string | number | boolean | null>;
  /** Same key, same row: a retried activity does not audit twice. */
  idempotencyKey: string;
}

/** First key of the two-key advisory locks that serialise appends to one chain ("rot"). */
const AUDIT_LOCK_NAMESPACE = 0x726f74;

/**
 * Takes the chain's lock for the rest of `trx`. Appends and the archiver both hold it, so a
 * chain only ever grows one row at a time, whichever worker or API process writes.
 */
export async function lockChain(trx: Transaction<Database>, key: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_NAMESPACE}, hashtext(${key}))`.execute(trx);
}

/**
 * The one way a row enters audit_events: links it to its tenant's chain (sequence number, previous
 * hash, own hash) under the chain's lock, and writes it once per idempotency key. Pass a
 * transaction to make the row part of it (the lock is then held until it commits).
 */
export async function appendAudit(
  db: Kysely<Database> | Transaction<Database>,
  entry: AuditEntry,
): Promise<void> {
  if (db.isTransaction) return appendInTransaction(db as Transaction<Database>, entry);
  await db.transaction().execute((trx) => appendInTransaction(trx, entry));
}

async function appendInTransaction(trx: Transaction<Database>, entry: AuditEntry): Promise<void> {
  const key = chainKey(entry.tenantId);
  await lockChain(trx, key);
  const seen = await trx
    .selectFrom('audit_events')
    .select('id')
    .where('idempotency_key', '=', entry.idempotencyKey)
    .unionAll(
      trx
        .selectFrom('audit_events_archive')
        .select('id')
        .where('idempotency_key', '=', entry.idempotencyKey),
    )
    .executeTakeFirst();
  if (seen) return;

  const head = await trx
    .selectFrom('audit_chain_heads')
    .select(['last_seq', 'last_hash'])
    .where('chain_key', '=', key)
    .executeTakeFirst();
  const seq = Number(head?.last_seq ?? 0) + 1;
  const prevHash = head?.last_hash ?? GENESIS_HASH;
  // Hash what PostgreSQL will hand back: details after a JSON round trip, a millisecond time.
  const details = JSON.parse(JSON.stringify(entry.details ?? {})) as Record<string, unknown>;
  const occurredAt = new Date();
  const fields = {
    tenantId: entry.tenantId,
    secretId: entry.secretId ?? null,
    rotationId: entry.rotationId ?? null,
    actor: entry.actor,
    action: entry.action,
    outcome: entry.outcome,
    details,
    idempotencyKey: entry.idempotencyKey,
    occurredAt,
    seq,
    prevHash,
  };
  const hash = auditHash(fields);
  const inserted = await trx
    .insertInto('audit_events')
    .values({
      tenant_id: fields.tenantId,
      secret_id: fields.secretId,
      rotation_id: fields.rotationId,
      actor: fields.actor,
      action: fields.action,
      outcome: fields.outcome,
      details: JSON.stringify(details),
      idempotency_key: fields.idempotencyKey,
      occurred_at: occurredAt,
      chain_seq: seq,
      prev_hash: prevHash,
      hash,
    })
    // Only another chain can hold this key now (ours is locked): keep theirs, link nothing.
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return;
  await trx
    .insertInto('audit_chain_heads')
    .values({ chain_key: key, last_seq: seq, last_hash: hash, updated_at: occurredAt })
    .onConflict((oc) =>
      oc
        .column('chain_key')
        .doUpdateSet({ last_seq: seq, last_hash: hash, updated_at: occurredAt }),
    )
    .execute();
}
