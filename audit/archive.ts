import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import type { RequestOrigin } from '../domain';
import { appendAudit, lockChain } from './append';
import { chainKey, chainTenant } from './chain';
import { chainRows, liveAnchor, seqExists, walkChain } from './verify';
import type { ChainBreak } from './verify';

/** Archiving refused: the segment to archive does not verify, so it must be looked at first. */
export class AuditChainBrokenError extends Error {
  readonly code = 'ROT_ERR_AUDIT_CHAIN_BROKEN';
  readonly statusCode = 409;
  constructor(
    readonly tenantId: string | null,
    readonly chainBreak: ChainBreak,
  ) {
    super(
      `The audit chain of ${tenantId === null ? 'system events' : `tenant ${tenantId}`} is broken (${chainBreak.message}); nothing was archived from it`,
    );
    this.name = 'AuditChainBrokenError';
  }
}

export interface ArchivedChain {
  tenantId: string | null;
  rows: number;
  /** The new checkpoint: the live chain now continues from this row's hash. */
  throughSeq: number;
  throughHash: string;
}

export interface ArchiveResult {
  cutoff: string;
  rows: number;
  chains: ArchivedChain[];
}

/** Rows per transaction: bounds memory and how long an archive holds up the chain's appends. */
const BATCH = 5000;

/**
 * Moves each chain's rows older than `before` (the unbroken run from its start) into
 * audit_events_archive and leaves a checkpoint, so the live chain verifies from the checkpoint and
 * the archive verifies on its own. A segment that does not verify is not archived.
 */
export async function archiveAuditEvents(
  db: Kysely<Database>,
  options: { before: Date; actor: string; tenantId?: string | null; origin?: RequestOrigin },
): Promise<ArchiveResult> {
  const keys =
    options.tenantId === undefined
      ? (await db.selectFrom('audit_events').select('tenant_id').distinct().execute())
          .map((r) => chainKey(r.tenant_id))
          .sort()
      : [chainKey(options.tenantId)];
  const chains: ArchivedChain[] = [];
  for (const key of keys) {
    let rows = 0;
    let latest: ArchivedChain | null = null;
    for (;;) {
      const batch = await archiveBatch(db, key, options);
      if (!batch) break;
      rows += batch.rows;
      latest = batch;
    }
    if (latest) chains.push({ ...latest, rows });
  }
  const rows = chains.reduce((n, c) => n + c.rows, 0);
  if (rows > 0) {
    await appendAudit(db, {
      tenantId: null,
      actor: options.actor,
      action: 'audit.archived',
      outcome: 'success',
      details: { cutoff: options.before.toISOString(), rows, chains: chains.length },
      idempotencyKey: `audit-archive:${randomUUID()}`,
      origin: options.origin,
    });
  }
  return { cutoff: options.before.toISOString(), rows, chains };
}

async function archiveBatch(
  db: Kysely<Database>,
  key: string,
  options: { before: Date; actor: string },
): Promise<ArchivedChain | null> {
  return db.transaction().execute(async (trx) => {
    await lockChain(trx, key);
    const anchor = await liveAnchor(trx, key);
    const inChain = key === '' ? sql<boolean>`tenant_id is null` : sql<boolean>`tenant_id = ${key}`;
    // The first row to keep ends the segment, so a late row never leaves a hole behind it.
    const kept = await trx
      .selectFrom('audit_events')
      .select(sql<string | null>`min(chain_seq)`.as('seq'))
      .where(inChain)
      .where('occurred_at', '>=', options.before)
      .executeTakeFirst();
    const last = await trx
      .selectFrom('audit_events')
      .select(sql<string | null>`max(chain_seq)`.as('seq'))
      .where(inChain)
      .executeTakeFirst();
    const end = kept?.seq != null ? Number(kept.seq) - 1 : Number(last?.seq ?? 0);
    const throughSeq = Math.min(end, anchor.seq + BATCH);
    if (throughSeq <= anchor.seq) return null;

    const walked = await walkChain(
      chainRows(trx, 'audit_events', key, { throughSeq }),
      anchor,
      seqExists(trx, 'audit_events', key),
    );
    if (walked.break) throw new AuditChainBrokenError(chainTenant(key), walked.break);
    if (!walked.last || walked.last.seq !== throughSeq) {
      throw new AuditChainBrokenError(chainTenant(key), {
        id: walked.last?.id ?? null,
        seq: (walked.last?.seq ?? anchor.seq) + 1,
        reason: 'missing',
        message: `seq ${(walked.last?.seq ?? anchor.seq) + 1} is missing`,
      });
    }

    // Only the archiver sets this, for this transaction; the trigger also insists on the copy.
    await sql`select set_config('rotor.audit_archiving', 'on', true)`.execute(trx);
    const inSegment = sql`${inChain} and chain_seq > ${anchor.seq} and chain_seq <= ${throughSeq}`;
    const columns = sql.raw(
      'id, tenant_id, secret_id, rotation_id, actor, action, outcome, details, idempotency_key, occurred_at, chain_seq, prev_hash, hash, client_ip, user_agent, chain_format',
    );
    await sql`insert into audit_events_archive (${columns})
      select ${columns} from audit_events where ${inSegment}`.execute(trx);
    await sql`delete from audit_events where ${inSegment}`.execute(trx);
    await trx
      .insertInto('audit_checkpoints')
      .values({
        chain_key: key,
        through_seq: throughSeq,
        through_hash: walked.last.hash,
        through_id: walked.last.id,
        row_count: walked.rows,
        cutoff: options.before,
        created_by: options.actor,
      })
      .execute();
    return {
      tenantId: chainTenant(key),
      rows: walked.rows,
      throughSeq,
      throughHash: walked.last.hash,
    };
  });
}
