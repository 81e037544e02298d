import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db';
import { SecretState, SecretType } from '../domain';
import { registerComputedHistogram } from './computed-histogram';
import { Dependency } from './dependency-errors';
import { registerSecurityMetrics } from './security-metrics';
import type { SecurityMetrics } from './security-metrics';

/** Rotations that have ended, and the outcome label each gets (lower-cased status). */
const FINISHED = ['COMPLETED', 'FAILED', 'REJECTED', 'APPROVAL_EXPIRED'] as const;

/**
 * Bounds for rotation_duration_seconds. A rotation runs from its request to its finish, which
 * for sensitive types includes waiting for approval, so the range reaches days.
 */
export const ROTATION_DURATION_BUCKETS = [
  0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400, 259_200, 604_800,
];

/**
 * Engine metrics, read from the engine database at scrape time. Any number of workers write the
 * rows, so the database (not one process's memory) is where the true counts live. Counters only
 * ever move up, because the rows they count are never deleted.
 */
export function createMetricsRegistry(db: Kysely<Database>): Registry {
  return createApiMetrics(db).registry;
}

/** Counts the requests answered 503 because a dependency was down, by which one. */
export type DependencyOutageCounter = (dependency: Dependency) => void;

/**
 * The API's registry, the counters of what it refuses, and of the requests it could not serve
 * because a dependency was down (the API's own, per process).
 */
export function createApiMetrics(db: Kysely<Database>): {
  registry: Registry;
  security: SecurityMetrics;
  dependencyOutage: DependencyOutageCounter;
} {
  const registry = new Registry();
  const security = registerSecurityMetrics(registry);
  const outages = new Counter({
    name: 'api_dependency_unavailable_total',
    help: 'API requests answered 503 ROT_ERR_DEPENDENCY_UNAVAILABLE, by the dependency that was down (vault, database, temporal)',
    labelNames: ['dependency'],
    registers: [registry],
  });
  // Every series from the first scrape at 0, so the first outage is an increase alerts can see.
  for (const dependency of Object.values(Dependency)) outages.inc({ dependency }, 0);
  collectDefaultMetrics({ register: registry, prefix: 'rotor_api_' });

  const raise = (
    counter: Counter<string>,
    labels: Record<string, string>,
    total: number,
    seen: Map<string, number>,
  ) => {
    const key = JSON.stringify(labels);
    const delta = total - (seen.get(key) ?? 0);
    if (delta > 0) counter.inc(labels, delta);
    seen.set(key, Math.max(total, seen.get(key) ?? 0));
  };

  const rotationsSeen = new Map<string, number>();
  const rotations = new Counter({
    name: 'rotations_total',
    help: 'Finished rotations by secret type and outcome (completed, failed, rejected, approval_expired)',
    labelNames: ['type', 'outcome'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('rotations')
        .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
        .select(['secrets.type', 'rotations.status', sql<string>`count(*)`.as('n')])
        .where('rotations.status', 'in', FINISHED)
        .groupBy(['secrets.type', 'rotations.status'])
        .execute();
      for (const r of rows)
        raise(this, { type: r.type, outcome: r.status.toLowerCase() }, Number(r.n), rotationsSeen);
    },
  });
  // Every series exists from the first scrape at 0, so the first failure of a type is an
  // increase Prometheus can see (RotationFailed), not a series appearing out of nowhere.
  for (const type of Object.values(SecretType))
    for (const status of FINISHED) rotations.inc({ type, outcome: status.toLowerCase() }, 0);

  // From the rotations table, not observed in a worker: a rotation's steps run on whichever
  // workers are alive, finishRotation may be retried on another one, and workers restart.
  // Counted from the rows, the histogram has exactly one observation per finished rotation, its
  // _count always equals rotations_total, and nothing is lost when a worker goes away.
  const seconds = sql<string>`extract(epoch from (rotations.completed_at - coalesce(rotations.started_at, rotations.requested_at)))`;
  registerComputedHistogram(registry, {
    name: 'rotation_duration_seconds',
    help: 'Time from a rotation’s request to its finish (approval wait included), by secret type and outcome',
    labelNames: ['type', 'outcome'],
    buckets: ROTATION_DURATION_BUCKETS,
    async load() {
      const rows = await db
        .selectFrom('rotations')
        .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
        .select([
          'secrets.type',
          'rotations.status',
          sql<string>`count(*)`.as('n'),
          sql<string>`coalesce(sum(${seconds}), 0)`.as('total'),
          sql<string[]>`array[${sql.join(
            ROTATION_DURATION_BUCKETS.map((le) => sql`count(*) filter (where ${seconds} <= ${le})`),
          )}]`.as('le'),
        ])
        .where('rotations.status', 'in', FINISHED)
        .groupBy(['secrets.type', 'rotations.status'])
        .execute();
      return rows.map((r) => ({
        labels: { type: r.type, outcome: r.status.toLowerCase() },
        buckets: r.le.map(Number),
        count: Number(r.n),
        sum: Number(r.total),
      }));
    },
  });

  const failuresSeen = new Map<string, number>();
  new Counter({
    name: 'notifications_failed_total',
    help: 'Notification digests that could not be delivered after every retry',
    labelNames: ['channel', 'audience'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('notification_deliveries')
        .select(['channel', 'audience', sql<string>`count(*)`.as('n')])
        .where('status', '=', 'failed')
        .groupBy(['channel', 'audience'])
        .execute();
      for (const r of rows)
        raise(this, { channel: r.channel, audience: r.audience }, Number(r.n), failuresSeen);
    },
  });

  new Gauge({
    name: 'secrets_by_state',
    help: 'Managed secrets by lifecycle state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('secrets')
        .select(['state', sql<string>`count(*)`.as('n')])
        .groupBy('state')
        .execute();
      this.reset();
      for (const state of Object.values(SecretState)) this.set({ state }, 0);
      for (const r of rows) this.set({ state: r.state }, Number(r.n));
    },
  });

  new Gauge({
    name: 'approvals_pending',
    help: 'Rotations waiting for security’s decision',
    registers: [registry],
    async collect() {
      const row = await db
        .selectFrom('secrets')
        .select(sql<string>`count(*)`.as('n'))
        .where('state', '=', SecretState.AwaitingApproval)
        .executeTakeFirst();
      this.set(Number(row?.n ?? 0));
    },
  });

  new Gauge({
    name: 'secrets_overdue',
    help: 'Secrets past their next rotation time and not rotating (paused, failed or waiting)',
    registers: [registry],
    async collect() {
      const row = await db
        .selectFrom('secrets')
        .select(sql<string>`count(*)`.as('n'))
        .where('next_rotation_at', '<', sql<Date>`now() - interval '5 minutes'`)
        .where('state', '!=', SecretState.Retired)
        .executeTakeFirst();
      this.set(Number(row?.n ?? 0));
    },
  });

  return {
    registry,
    security,
    dependencyOutage: (dependency) => outages.inc({ dependency }),
  };
}
