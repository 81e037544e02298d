import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { RotationStatus, SecretState } from '../domain';
import { verifyAuditTrail } from '../audit';
import type { VerifyReport } from '../audit';

/** Past due by more than this counts as overdue (as the secrets_overdue metric counts it). */
const OVERDUE_GRACE_MS = 5 * 60_000;

export interface ReportSecret {
  tenantId: string;
  name: string;
  type: string;
  state: string;
  nextRotationAt: string | null;
  lastRotatedAt: string | null;
  lastErrorType: string | null;
  /** The previous credential, while it still works (in grace, or its revocation failed). */
  previousVersion: number | null;
}

export interface ReportFailedRotation {
  tenantId: string;
  name: string;
  rotationId: string;
  status: string;
  errorType: string | null;
  at: string | null;
}

export interface ReportAccess {
  actor: string;
  action: string;
  count: number;
  /** How many distinct secrets these events touched. */
  secrets: number;
  lastAt: string;
}

export interface SecurityReport {
  generatedAt: string;
  /** null: every tenant. */
  tenantId: string | null;
  /** Failures, approvals and access are counted over this window. */
  window: { since: string; until: string };
  dueBefore: string;
  /** Full counts; the lists below stop at `listLimit` items each. */
  totals: {
    overdue: number;
    needsAttention: number;
    failedRotations: number;
    expiringSoon: number;
  };
  listLimit: number;
  overdue: ReportSecret[];
  needsAttention: ReportSecret[];
  failedRotations: ReportFailedRotation[];
  expiringSoon: ReportSecret[];
  approvals: {
    requested: number;
    approved: number;
    rejected: number;
    expired: number;
    pending: number;
    /** Median seconds from request to the deciding approval or rejection; null if none. */
    medianSecondsToDecision: number | null;
  };
  access: ReportAccess[];
  auditIntegrity: {
    ok: boolean;
    chains: number;
    rows: number;
    firstBreak: VerifyReport['firstBreak'];
  };
}

export interface SecurityReportOptions {
  tenantId?: string | null;
  windowSeconds: number;
  dueWithinSeconds: number;
  listLimit?: number;
  now?: Date;
}

const iso = (d: Date | string | null): string | null =>
  d === null ? null : new Date(d).toISOString();

/**
 * What security needs to know, read from the engine database: overdue and failing secrets, what is
 * due soon, how approvals went, who did what, and whether the audit trail is intact. Names, ids,
 * times and counts only: never a secret value.
 */
export async function buildSecurityReport(
  db: Kysely<Database>,
  options: SecurityReportOptions,
): Promise<SecurityReport> {
  const now = options.now ?? new Date();
  const since = new Date(now.getTime() - options.windowSeconds * 1000);
  const dueBefore = new Date(now.getTime() + options.dueWithinSeconds * 1000);
  const limit = options.listLimit ?? 100;
  const tenantId = options.tenantId ?? null;

  const secrets = () => {
    const q = db
      .selectFrom('secrets')
      .select([
        'tenant_id',
        'name',
        'type',
        'state',
        'next_rotation_at',
        'last_rotated_at',
        'last_error_type',
        'previous_version',
      ])
      .where('state', '!=', SecretState.Retired);
    return tenantId ? q.where('tenant_id', '=', tenantId) : q;
  };
  const toSecret = (r: Awaited<ReturnType<ReturnType<typeof secrets>['execute']>>[number]) => ({
    tenantId: r.tenant_id,
    name: r.name,
    type: r.type,
    state: r.state,
    nextRotationAt: iso(r.next_rotation_at),
    lastRotatedAt: iso(r.last_rotated_at),
    lastErrorType: r.last_error_type,
    previousVersion: r.previous_version,
  });
  const count = async (q: ReturnType<typeof secrets>) =>
    Number(
      (
        await q
          .clearSelect()
          .select(sql<string>`count(*)`.as('n'))
          .executeTakeFirst()
      )?.n ?? 0,
    );

  const overdueQ = secrets().where(
    'next_rotation_at',
    '<',
    new Date(now.getTime() - OVERDUE_GRACE_MS),
  );
  const attentionQ = secrets().where('state', '=', SecretState.NeedsAttention);
  const soonQ = secrets()
    .where('next_rotation_at', '>=', now)
    .where('next_rotation_at', '<', dueBefore);

  let failedQ = db
    .selectFrom('rotations')
    .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
    .where('rotations.status', 'in', [RotationStatus.Failed, RotationStatus.Compensated])
    .where(sql<boolean>`coalesce(rotations.completed_at, rotations.requested_at) >= ${since}`);
  if (tenantId) failedQ = failedQ.where('secrets.tenant_id', '=', tenantId);

  const [overdue, overdueN, attention, attentionN, soon, soonN, failed, failedN] =
    await Promise.all([
      overdueQ.orderBy('next_rotation_at').limit(limit).execute(),
      count(overdueQ),
      attentionQ.orderBy('updated_at', 'desc').limit(limit).execute(),
      count(attentionQ),
      soonQ.orderBy('next_rotation_at').limit(limit).execute(),
      count(soonQ),
      failedQ
        .select([
          'secrets.tenant_id',
          'secrets.name',
          'rotations.id',
          'rotations.status',
          'rotations.error_type',
          sql<Date>`coalesce(rotations.completed_at, rotations.requested_at)`.as('at'),
        ])
        .orderBy('at', 'desc')
        .limit(limit)
        .execute(),
      failedQ
        .select(sql<string>`count(*)`.as('n'))
        .executeTakeFirst()
        .then((r) => Number(r?.n ?? 0)),
    ]);

  const [approvals, access, integrity] = await Promise.all([
    approvalStats(db, tenantId, since, now),
    accessByActor(db, tenantId, since, now, limit),
    verifyAuditTrail(db, tenantId ? { tenantId } : {}),
  ]);

  return {
    generatedAt: now.toISOString(),
    tenantId,
    window: { since: since.toISOString(), until: now.toISOString() },
    dueBefore: dueBefore.toISOString(),
    totals: {
      overdue: overdueN,
      needsAttention: attentionN,
      failedRotations: failedN,
      expiringSoon: soonN,
    },
    listLimit: limit,
    overdue: overdue.map(toSecret),
    needsAttention: attention.map(toSecret),
    failedRotations: failed.map((r) => ({
      tenantId: r.tenant_id,
      name: r.name,
      rotationId: r.id,
      status: r.status,
      errorType: r.error_type,
      at: iso(r.at),
    })),
    expiringSoon: soon.map(toSecret),
    approvals,
    access,
    auditIntegrity: {
      ok: integrity.ok,
      chains: integrity.chains.length,
      rows: integrity.chains.reduce((n, c) => n + c.rows, 0),
      firstBreak: integrity.firstBreak,
    },
  };
}

/**
 * Rotations whose approval was requested in the window, by how they ended. The deciding moment is
 * the first rejection (a veto) or, once approved, the approval that completed the quorum.
 */
async function approvalStats(
  db: Kysely<Database>,
  tenantId: string | null,
  since: Date,
  until: Date,
): Promise<SecurityReport['approvals']> {
  const { rows } = await sql<{
    requested: string;
    approved: string;
    rejected: string;
    expired: string;
    pending: string;
    median: number | null;
  }>`
    with requests as (
      select rotation_id, min(occurred_at) as requested_at
      from audit_events
      where action = 'approval.requested' and rotation_id is not null
        and occurred_at >= ${since} and occurred_at < ${until}
        ${tenantId ? sql`and tenant_id = ${tenantId}` : sql``}
      group by rotation_id
    ), decisions as (
      select rotation_id,
        coalesce(min(decided_at) filter (where decision = 'rejected'), max(decided_at)) as decided_at
      from approvals where rotation_id in (select rotation_id from requests)
      group by rotation_id
    ), outcomes as (
      select q.requested_at, d.decided_at, r.status,
        (r.approved_by is not null) as approved,
        (r.status = ${RotationStatus.Rejected}) as rejected
      from requests q
      join rotations r on r.id = q.rotation_id
      left join decisions d on d.rotation_id = q.rotation_id
    )
    select count(*) as requested,
      count(*) filter (where approved) as approved,
      count(*) filter (where rejected) as rejected,
      count(*) filter (where status = ${RotationStatus.ApprovalExpired}) as expired,
      count(*) filter (where status = ${RotationStatus.AwaitingApproval}) as pending,
      percentile_cont(0.5) within group (
        order by extract(epoch from decided_at - requested_at)
      ) filter (where (approved or rejected) and decided_at is not null) as median
    from outcomes`.execute(db);
  const r = rows[0];
  return {
    requested: Number(r?.requested ?? 0),
    approved: Number(r?.approved ?? 0),
    rejected: Number(r?.rejected ?? 0),
    expired: Number(r?.expired ?? 0),
    pending: Number(r?.pending ?? 0),
    medianSecondsToDecision: r?.median == null ? null : Math.round(Number(r.median) * 10) / 10,
  };
}

/** Who did what in the window: audit events by actor and action, busiest first. */
async function accessByActor(
  db: Kysely<Database>,
  tenantId: string | null,
  since: Date,
  until: Date,
  limit: number,
): Promise<ReportAccess[]> {
  let q = db
    .selectFrom('audit_events')
    .select([
      'actor',
      'action',
      sql<string>`count(*)`.as('n'),
      sql<string>`count(distinct secret_id)`.as('secrets'),
      sql<Date>`max(occurred_at)`.as('last_at'),
    ])
    .where('occurred_at', '>=', since)
    .where('occurred_at', '<', until)
    .groupBy(['actor', 'action'])
    .orderBy(sql`count(*)`, 'desc')
    .orderBy('actor')
    .orderBy('action')
    .limit(limit);
  if (tenantId) q = q.where('tenant_id', '=', tenantId);
  return (await q.execute()).map((r) => ({
    actor: r.actor,
    action: r.action,
    count: Number(r.n),
    secrets: Number(r.secrets),
    lastAt: new Date(r.last_at).toISOString(),
  }));
}
