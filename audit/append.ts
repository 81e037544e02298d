import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema';
import { cleanClientIp, cleanUserAgent, wellFormed, wellFormedJson } from '../domain';
import type { RequestOrigin } from '../domain';
import { CURRENT_CHAIN_FORMAT, GENESIS_HASH, auditHash, chainKey } from './chain';

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
  /**
   * Where the API request behind this row came from (client IP, user agent); absent for what
   * Rotor does on its own (timers, retries). Hashed with the row.
   */
  origin?: RequestOrigin | null | undefined;
}

/** First key of the two-key advisory locks that serialise appends to one chain ("rot"). */
const AUDIT_LOCK_NAMESPACE = 0x726f74;

/** Rows one group commit links at most: bounds the statement's size and the lock's hold. */
const MAX_BATCH = 500;

/**
 * Takes the chain's lock for the rest of `trx`. Appends and the archiver both hold it, so a
 * chain only ever grows one row at a time, whichever worker or API process writes.
 */
export async function lockChain(trx: Transaction<Database>, key: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_NAMESPACE}, hashtext(${key}))`.execute(trx);
}

interface Head {
  seq: number;
  hash: string;
}

/**
 * The chain's lock and its head in one round trip (migration 0009): the function's SELECT runs
 * after the lock is granted, so it sees what the previous holder committed.
 */
async function lockHead(trx: Transaction<Database>, key: string): Promise<Head> {
  const { rows } = await sql<{ last_seq: string; last_hash: string }>`
    select last_seq, last_hash from rotor_audit_lock_chain(${AUDIT_LOCK_NAMESPACE}, ${key})`.execute(
    trx,
  );
  const head = rows[0];
  return head
    ? { seq: Number(head.last_seq), hash: head.last_hash }
    : { seq: 0, hash: GENESIS_HASH };
}

/** Idempotency keys already in the trail, live or archived. */
async function seenKeys(db: Kysely<Database>, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db
    .selectFrom('audit_events')
    .select('idempotency_key')
    .where('idempotency_key', 'in', keys)
    .unionAll(
      db
        .selectFrom('audit_events_archive')
        .select('idempotency_key')
        .where('idempotency_key', 'in', keys),
    )
    .execute();
  return new Set(rows.map((r) => r.idempotency_key).filter((k): k is string => k !== null));
}

interface LinkedRow {
  tenant_id: string | null;
  secret_id: string | null;
  rotation_id: string | null;
  actor: string;
  action: string;
  outcome: string;
  details: string;
  idempotency_key: string;
  occurred_at: Date;
  chain_seq: number;
  prev_hash: string;
  hash: string;
  client_ip: string | null;
  user_agent: string | null;
}

/** Links entries after `head`, in order, all stamped `occurredAt` (taken under the lock). */
function link(entries: AuditEntry[], head: Head, occurredAt: Date): LinkedRow[] {
  let prev = head;
  return entries.map((entry) => {
    // Hash what PostgreSQL will hand back: details after a JSON round trip, a millisecond time,
    // and text without lone surrogates (jsonb refuses them; text columns store U+FFFD). A
    // reason from a raw workflow message may hold one: stored anyway, and the hash still holds.
    const details = JSON.parse(wellFormedJson(entry.details ?? {})) as Record<string, unknown>;
    const actor = wellFormed(entry.actor);
    const seq = prev.seq + 1;
    // Cleaned here too, whatever the caller did: an origin may come from a raw workflow message.
    const origin = entry.origin as Partial<Record<'ip' | 'userAgent', unknown>> | null | undefined;
    const clientIp = cleanClientIp(typeof origin?.ip === 'string' ? origin.ip : undefined);
    const userAgent = cleanUserAgent(
      typeof origin?.userAgent === 'string' ? origin.userAgent : undefined,
    );
    const hash = auditHash({
      tenantId: entry.tenantId,
      secretId: entry.secretId ?? null,
      rotationId: entry.rotationId ?? null,
      actor,
      action: entry.action,
      outcome: entry.outcome,
      details,
      idempotencyKey: entry.idempotencyKey,
      occurredAt,
      seq,
      prevHash: prev.hash,
      format: CURRENT_CHAIN_FORMAT,
      clientIp,
      userAgent,
    });
    const row: LinkedRow = {
      tenant_id: entry.tenantId,
      secret_id: entry.secretId ?? null,
      rotation_id: entry.rotationId ?? null,
      actor,
      action: entry.action,
      outcome: entry.outcome,
      details: JSON.stringify(details),
      idempotency_key: entry.idempotencyKey,
      occurred_at: occurredAt,
      chain_seq: seq,
      prev_hash: prev.hash,
      hash,
      client_ip: clientIp,
      user_agent: userAgent,
    };
    prev = { seq, hash };
    return row;
  });
}

/**
 * Inserts linked rows and moves the head to the last one, in one statement. With `skipSeen` (a
 * single row) a key that turns up meanwhile writes nothing and leaves the head alone; a batch
 * is inserted as a whole or the statement fails, so no row of it can leave a gap in the chain.
 */
async function insertLinked(
  trx: Transaction<Database>,
  key: string,
  rows: LinkedRow[],
  skipSeen: boolean,
): Promise<void> {
  const last = rows[rows.length - 1];
  if (!last) return;
  const values = sql.join(
    rows.map(
      (r) =>
        sql`(${r.tenant_id}, ${r.secret_id}::uuid, ${r.rotation_id}, ${r.actor}, ${r.action}, ${r.outcome}, ${r.details}::jsonb, ${r.idempotency_key}, ${r.occurred_at}::timestamptz, ${r.chain_seq}::bigint, ${r.prev_hash}, ${r.hash}, ${r.client_ip}::text, ${r.user_agent}::text, ${CURRENT_CHAIN_FORMAT}::smallint)`,
    ),
  );
  // Only another chain can hold a single row's key now (ours is locked): keep theirs, link nothing.
  const guard = skipSeen
    ? sql`where not exists (select 1 from audit_events_archive a
        where a.idempotency_key = v.idempotency_key)
      on conflict (idempotency_key) do nothing`
    : sql``;
  await sql`
    with inserted as (
      insert into audit_events (tenant_id, secret_id, rotation_id, actor, action, outcome, details,
        idempotency_key, occurred_at, chain_seq, prev_hash, hash, client_ip, user_agent,
        chain_format)
      select * from (values ${values}) as v (tenant_id, secret_id, rotation_id, actor, action,
        outcome, details, idempotency_key, occurred_at, chain_seq, prev_hash, hash, client_ip,
        user_agent, chain_format)
      ${guard}
      returning id
    )
    insert into audit_chain_heads (chain_key, last_seq, last_hash, updated_at)
    select ${key}, ${last.chain_seq}::bigint, ${last.hash}, ${last.occurred_at}::timestamptz
    where exists (select 1 from inserted)
    on conflict (chain_key) do update
      set last_seq = excluded.last_seq, last_hash = excluded.last_hash,
          updated_at = excluded.updated_at`.execute(trx);
}

/** One entry inside the caller's transaction: the lock is held from here until it commits. */
async function appendInTransaction(trx: Transaction<Database>, entry: AuditEntry): Promise<void> {
  // Checked before the lock, to keep the locked part short; a key that arrives in between is
  // caught by the insert's own guard.
  if ((await seenKeys(trx, [entry.idempotencyKey])).size > 0) return;
  const key = chainKey(entry.tenantId);
  const head = await lockHead(trx, key);
  await insertLinked(trx, key, link([entry], head, new Date()), true);
}

interface Waiting {
  entry: AuditEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for one chain of one connection pool: appends made while a commit is under way
 * wait for the next one, which links all of them under one lock, one head read and one insert.
 * The lock and the head are the same as for single appends, so other processes (and appends
 * inside callers' transactions) interleave safely, batch by batch.
 */
class ChainAppender {
  private readonly waiting: Waiting[] = [];
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly key: string,
    private readonly onIdle: () => void,
  ) {}

  append(entry: AuditEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ entry, resolve, reject });
      if (!this.running) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) await this.commit(this.waiting.splice(0, MAX_BATCH));
    } finally {
      this.running = false;
      this.onIdle();
    }
  }

  private async commit(batch: Waiting[]): Promise<void> {
    try {
      const seen = await seenKeys(
        this.db,
        batch.map((w) => w.entry.idempotencyKey),
      );
      // A key twice in one batch (a retry racing its first try) is one row.
      const fresh = [
        ...new Map(
          batch
            .filter((w) => !seen.has(w.entry.idempotencyKey))
            .map((w) => [w.entry.idempotencyKey, w.entry] as const),
        ).values(),
      ];
      if (fresh.length > 0) {
        await this.db.transaction().execute(async (trx) => {
          const head = await lockHead(trx, this.key);
          await insertLinked(trx, this.key, link(fresh, head, new Date()), false);
        });
      }
      for (const w of batch) w.resolve();
    } catch {
      // Someone else wrote one of these keys meanwhile, or one entry is bad: each alone, so an
      // entry's failure is its own caller's only.
      await Promise.all(
        batch.map(async (w) => {
          try {
            await this.db.transaction().execute((trx) => appendInTransaction(trx, w.entry));
            w.resolve();
          } catch (err) {
            w.reject(err);
          }
        }),
      );
    }
  }
}

// Group commit has to be shared by every caller of one pool: keyed by the injected pool itself,
// and dropped with it (a WeakMap), so nothing outlives the database handle it was made for.
const appenders = new WeakMap<Kysely<Database>, Map<string, ChainAppender>>();

function appenderFor(db: Kysely<Database>, key: string): ChainAppender {
  let chains = appenders.get(db);
  if (!chains) appenders.set(db, (chains = new Map<string, ChainAppender>()));
  let appender = chains.get(key);
  if (!appender) {
    const made = new ChainAppender(db, key, () => {
      if (chains.get(key) === made) chains.delete(key);
    });
    chains.set(key, made);
    appender = made;
  }
  return appender;
}

/**
 * The one way a row enters audit_events: links it to its tenant's chain (sequence number, previous
 * hash, own hash) under the chain's lock, and writes it once per idempotency key.
 *
 * Pass a transaction to make the row part of it: the lock is then held from the link until the
 * caller commits, so append last. Without one, appends to one chain made at the same time are
 * committed together (one lock, one head read, one insert for all of them), and each call
 * returns once its row is committed.
 */
export async function appendAudit(
  db: Kysely<Database> | Transaction<Database>,
  entry: AuditEntry,
): Promise<void> {
  if (db.isTransaction) return appendInTransaction(db as Transaction<Database>, entry);
  await appenderFor(db, chainKey(entry.tenantId)).append(entry);
}
