import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db';
import { SecretState } from '../domain';

/**
 * Engine metrics, read from the engine database at scrape time. Any number of workers write the
 * rows, so the database (not one process's memory) is where the true counts live. Counters only
 * ever move up, because the rows they count are never deleted.
 */
export function createMetricsRegistry(db: Kysely<Database>): Registry {
  const registry = new Registry();
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
  new Counter({
    name: 'rotations_total',
    help: 'Finished rotations by secret type and outcome (completed, failed, rejected, approval_expired)',
    labelNames: ['type', 'outcome'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('rotations')
        .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
        .select(['secrets.type', 'rotations.status', sql<string>`count(*)`.as('n')])
        .where('rotations.status', 'in', ['COMPLETED', 'FAILED', 'REJECTED', 'APPROVAL_EXPIRED'])
        .groupBy(['secrets.type', 'rotations.status'])
        .execute();
      for (const r of rows)
        raise(this, { type: r.type, outcome: r.status.toLowerCase() }, Number(r.n), rotationsSeen);
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

  return registry;
}
