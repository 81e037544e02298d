import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { GENESIS_HASH, chainKey, chainTenant, storedRowHash } from './chain';
import type { StoredAuditRow } from './chain';

/** Why verification stopped at a row. */
export const ChainBreakReason = {
  /** The row's content no longer matches its hash, or its hash no longer matches the next row's link. */
  Altered: 'altered',
  /** Rows before this one are gone: its sequence number skips ahead. */
  Missing: 'missing',
  /** The row is out of place: an earlier sequence number comes after it. */
  Reordered: 'reordered',
  /** The row does not link to the checkpoint the archiver left. */
  BrokenLink: 'broken_link',
  /** Rows at the end of the chain are gone: the chain's head records more. */
  Truncated: 'truncated',
  /** A checkpoint does not match the archived row it names. */
  CheckpointMismatch: 'checkpoint_mismatch',
} as const;
export type ChainBreakReason = (typeof ChainBreakReason)[keyof typeof ChainBreakReason];

export interface ChainBreak {
  /** The first bad row, by audit id; null when the bad part is rows that no longer exist. */
  id: string | null;
  seq: number | null;
  reason: ChainBreakReason;
  message: string;
}

export type ChainSource = 'live' | 'archive';

export interface ChainResult {
  tenantId: string | null;
  source: ChainSource;
  rows: number;
  /** The sequence numbers checked (the live chain starts after its last checkpoint). */
  fromSeq: number | null;
  toSeq: number | null;
  /** Hash of the chain's last row: record it elsewhere to anchor the chain. */
  headHash: string | null;
  ok: boolean;
  break: ChainBreak | null;
}

export interface VerifyReport {
  ok: boolean;
  chains: ChainResult[];
  firstBreak: (ChainBreak & { tenantId: string | null; source: ChainSource }) | null;
}

interface Anchor {
  seq: number;
  hash: string;
}

interface Walked {
  rows: number;
  first: number | null;
  last: { id: string; seq: number; hash: string } | null;
  break: ChainBreak | null;
}

/**
 * Checks rows in id order against their own hashes, their sequence numbers and their links,
 * starting from `anchor`. Pure but for `hasSeq`, which tells "missing" from "reordered".
 */
export async function walkChain(
  rows: AsyncIterable<StoredAuditRow>,
  anchor: Anchor,
  hasSeq: (seq: number) => Promise<boolean>,
  onRow?: (row: StoredAuditRow) => void,
): Promise<Walked> {
  let expected = anchor.seq + 1;
  let prev: { id: string | null; hash: string } = { id: null, hash: anchor.hash };
  const walked: Walked = { rows: 0, first: null, last: null, break: null };
  const stop = (b: ChainBreak): Walked => ({ ...walked, break: b });
  for await (const row of rows) {
    const seq = Number(row.chain_seq);
    if (storedRowHash(row) !== row.hash) {
      return stop({
        id: row.id,
        seq,
        reason: ChainBreakReason.Altered,
        message: `row ${row.id} (seq ${seq}) was altered: its content no longer matches its hash`,
      });
    }
    if (seq > expected) {
      const moved = await hasSeq(expected);
      return stop({
        id: row.id,
        seq,
        reason: moved ? ChainBreakReason.Reordered : ChainBreakReason.Missing,
        message: moved
          ? `row ${row.id} (seq ${seq}) is out of order: seq ${expected} comes after it`
          : `seq ${expected}${seq - 1 > expected ? `-${seq - 1}` : ''} before row ${row.id} (seq ${seq}) is missing: deleted`,
      });
    }
    if (seq < expected) {
      return stop({
        id: row.id,
        seq,
        reason: ChainBreakReason.Reordered,
        message: `row ${row.id} (seq ${seq}) is out of order: it comes after seq ${expected - 1}`,
      });
    }
    if (row.prev_hash !== prev.hash) {
      // Own hash and position are fine, so what changed is the row it links to (rehashed).
      return stop(
        prev.id
          ? {
              id: prev.id,
              seq: seq - 1,
              reason: ChainBreakReason.Altered,
              message: `row ${prev.id} (seq ${seq - 1}) was altered and rehashed: row ${row.id} recorded a different hash for it`,
            }
          : {
              id: row.id,
              seq,
              reason: ChainBreakReason.BrokenLink,
              message: `row ${row.id} (seq ${seq}) does not link to the ${anchor.seq === 0 ? 'start of the chain' : `checkpoint at seq ${anchor.seq}`}`,
            },
      );
    }
    onRow?.(row);
    walked.rows += 1;
    walked.first ??= seq;
    walked.last = { id: row.id, seq, hash: row.hash };
    prev = { id: row.id, hash: row.hash };
    expected = seq + 1;
  }
  return walked;
}

type Table = 'audit_events' | 'audit_events_archive';

/** A chain's rows in id order, a page at a time. */
export async function* chainRows(
  db: Kysely<Database>,
  table: Table,
  key: string,
  options: { throughSeq?: number } = {},
): AsyncGenerator<StoredAuditRow> {
  for (let after = '0'; ;) {
    let query = db
      .selectFrom(table)
      .select([
        'id',
        'tenant_id',
        'secret_id',
        'rotation_id',
        'actor',
        'action',
        'outcome',
        'details',
        'idempotency_key',
        'occurred_at',
        'chain_seq',
        'prev_hash',
        'hash',
        'client_ip',
        'user_agent',
        'chain_format',
      ])
      .where('id', '>', after)
      .orderBy('id')
      .limit(1000);
    query = key === '' ? query.where('tenant_id', 'is', null) : query.where('tenant_id', '=', key);
    if (options.throughSeq !== undefined)
      query = query.where('chain_seq', '<=', String(options.throughSeq));
    const rows = (await query.execute()) as StoredAuditRow[];
    yield* rows;
    const last = rows[rows.length - 1];
    if (!last || rows.length < 1000) return;
    after = last.id;
  }
}

export function seqExists(
  db: Kysely<Database>,
  table: Table,
  key: string,
): (seq: number) => Promise<boolean> {
  return async (seq) => {
    let query = db.selectFrom(table).select('id').where('chain_seq', '=', String(seq));
    query = key === '' ? query.where('tenant_id', 'is', null) : query.where('tenant_id', '=', key);
    return (await query.executeTakeFirst()) !== undefined;
  };
}

/** Where the live chain starts: after the last archived row, or at the beginning. */
export async function liveAnchor(db: Kysely<Database>, key: string): Promise<Anchor> {
  const cp = await db
    .selectFrom('audit_checkpoints')
    .select(['through_seq', 'through_hash'])
    .where('chain_key', '=', key)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return cp
    ? { seq: Number(cp.through_seq), hash: cp.through_hash }
    : { seq: 0, hash: GENESIS_HASH };
}

async function verifyLive(db: Kysely<Database>, key: string): Promise<ChainResult> {
  const anchor = await liveAnchor(db, key);
  const walked = await walkChain(
    chainRows(db, 'audit_events', key),
    anchor,
    seqExists(db, 'audit_events', key),
  );
  let broken = walked.break;
  const end = walked.last ?? { id: null, seq: anchor.seq, hash: anchor.hash };
  if (!broken) {
    const head = await db
      .selectFrom('audit_chain_heads')
      .select(['last_seq', 'last_hash'])
      .where('chain_key', '=', key)
      .executeTakeFirst();
    const headSeq = head ? Number(head.last_seq) : 0;
    if (headSeq > end.seq) {
      broken = {
        id: null,
        seq: end.seq + 1,
        reason: ChainBreakReason.Truncated,
        message: `seq ${end.seq + 1}-${headSeq} after ${end.id ? `row ${end.id}` : 'the checkpoint'} is missing: the last rows were deleted`,
      };
    } else if (head ? head.last_hash !== end.hash || headSeq !== end.seq : end.seq > 0) {
      broken = {
        id: end.id,
        seq: end.seq,
        reason: ChainBreakReason.Altered,
        message: `the chain's head does not match ${end.id ? `row ${end.id}` : 'its checkpoint'} (seq ${end.seq})`,
      };
    }
  }
  return {
    tenantId: chainTenant(key),
    source: 'live',
    rows: walked.rows,
    fromSeq: walked.first,
    toSeq: walked.last?.seq ?? null,
    headHash: end.seq > 0 ? end.hash : null,
    ok: broken === null,
    break: broken,
  };
}

async function verifyArchive(db: Kysely<Database>, key: string): Promise<ChainResult | null> {
  const checkpoints = await db
    .selectFrom('audit_checkpoints')
    .select(['id', 'through_seq', 'through_hash'])
    .where('chain_key', '=', key)
    .orderBy('id')
    .execute();
  const archivedHashes = new Map<number, string>();
  const wanted = new Set(checkpoints.map((c) => Number(c.through_seq)));
  const walked = await walkChain(
    chainRows(db, 'audit_events_archive', key),
    { seq: 0, hash: GENESIS_HASH },
    seqExists(db, 'audit_events_archive', key),
    (row) => {
      if (wanted.has(Number(row.chain_seq))) archivedHashes.set(Number(row.chain_seq), row.hash);
    },
  );
  if (checkpoints.length === 0 && walked.rows === 0 && !walked.break) return null;
  let broken = walked.break;
  if (!broken) {
    const lastSeq = walked.last?.seq ?? 0;
    for (const cp of checkpoints) {
      const seq = Number(cp.through_seq);
      if (archivedHashes.get(seq) !== cp.through_hash) {
        broken = {
          id: null,
          seq,
          reason: ChainBreakReason.CheckpointMismatch,
          message: `checkpoint ${cp.id} names seq ${seq}, which the archive ${seq > lastSeq ? 'does not hold' : 'holds with another hash'}`,
        };
        break;
      }
    }
    const latest = checkpoints[checkpoints.length - 1];
    if (!broken && latest && Number(latest.through_seq) !== lastSeq) {
      broken = {
        id: walked.last?.id ?? null,
        seq: lastSeq,
        reason: ChainBreakReason.CheckpointMismatch,
        message: `the archive runs to seq ${lastSeq} but its last checkpoint is at seq ${latest.through_seq}`,
      };
    }
  }
  return {
    tenantId: chainTenant(key),
    source: 'archive',
    rows: walked.rows,
    fromSeq: walked.first,
    toSeq: walked.last?.seq ?? null,
    headHash: walked.last?.hash ?? null,
    ok: broken === null,
    break: broken,
  };
}

/** Every chain key that has rows, a head or a checkpoint. */
async function allChainKeys(db: Kysely<Database>): Promise<string[]> {
  const [heads, live, checkpoints] = await Promise.all([
    db.selectFrom('audit_chain_heads').select('chain_key').execute(),
    db.selectFrom('audit_events').select('tenant_id').distinct().execute(),
    db.selectFrom('audit_checkpoints').select('chain_key').distinct().execute(),
  ]);
  return [
    ...new Set([
      ...heads.map((h) => h.chain_key),
      ...live.map((r) => chainKey(r.tenant_id)),
      ...checkpoints.map((c) => c.chain_key),
    ]),
  ].sort();
}

/**
 * Verifies the audit trail: one tenant's chain (null: events without a tenant) or, by default,
 * every chain; the live rows from their last checkpoint, and the archive on its own.
 */
export async function verifyAuditTrail(
  db: Kysely<Database>,
  options: { tenantId?: string | null; scope?: 'live' | 'archive' | 'all' } = {},
): Promise<VerifyReport> {
  const scope = options.scope ?? 'all';
  const keys =
    options.tenantId === undefined ? await allChainKeys(db) : [chainKey(options.tenantId)];
  const chains: ChainResult[] = [];
  for (const key of keys) {
    if (scope !== 'live') {
      const archived = await verifyArchive(db, key);
      if (archived) chains.push(archived);
    }
    if (scope !== 'archive') chains.push(await verifyLive(db, key));
  }
  const bad = chains.find((c) => c.break);
  return {
    ok: !bad,
    chains,
    firstBreak: bad?.break ? { ...bad.break, tenantId: bad.tenantId, source: bad.source } : null,
  };
}
