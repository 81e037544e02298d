import { stat } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../db';
import { ENGINE_DATABASE } from '../devstack';
import type { Stack } from '../devstack';
import { scrape } from './processes';

/** The Temporal dev server's SQLite file with its write-ahead log and index. */
export async function temporalDbBytes(stack: Stack): Promise<number> {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    total += await stat(path.join(stack.stateDir, `temporal.sqlite${suffix}`)).then(
      (s) => s.size,
      () => 0,
    );
  }
  return total;
}

/** The worker's resident memory, from its own metrics endpoint (prom-client's process metric). */
export const workerRss = (metricsUrl: string): Promise<number> =>
  scrape(metricsUrl, 'rotor_worker_process_resident_memory_bytes');

/**
 * Calls made so far: the worker's Vault requests (its `vault_request_duration_seconds` count,
 * every operation and outcome) and the statements run on the engine database by anyone
 * (pg_stat_statements), read through the superuser on another database so that reading them is
 * not counted.
 */
export async function countCalls(
  admin: Kysely<unknown>,
  metricsUrl: string,
): Promise<{ vault: number; db: number }> {
  const vault = await scrape(metricsUrl, 'vault_request_duration_seconds_count');
  const { rows } = await sql<{ calls: string | null }>`
    select sum(s.calls) as calls from pg_stat_statements s
    join pg_database d on d.oid = s.dbid where d.datname = ${ENGINE_DATABASE}`.execute(admin);
  return { vault, db: Number(rows[0]?.calls ?? 0) };
}

/** Waits until no secret of these tenants is mid-rotation, and nothing new is written for 5 s. */
export async function settle(db: Kysely<Database>, tenants: readonly string[]): Promise<void> {
  let quietSince = Date.now();
  let lastAudit = '';
  for (;;) {
    const rotating = await db
      .selectFrom('secrets')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('tenant_id', 'in', tenants)
      .where('state', '=', 'ROTATING')
      .executeTakeFirstOrThrow();
    const newest = await db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirstOrThrow();
    const audit = String(newest.id ?? '');
    if (Number(rotating.n) > 0 || audit !== lastAudit) quietSince = Date.now();
    lastAudit = audit;
    if (Date.now() - quietSince >= 5000) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The worker's memory at one moment: resident set, and its main thread's V8 heap. */
export interface WorkerMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
}

export async function workerMemory(metricsUrl: string): Promise<WorkerMemory> {
  const [rss, heapUsed, heapTotal] = await Promise.all([
    workerRss(metricsUrl),
    scrape(metricsUrl, 'rotor_worker_nodejs_heap_size_used_bytes'),
    scrape(metricsUrl, 'rotor_worker_nodejs_heap_size_total_bytes'),
  ]);
  return { rss, heapUsed, heapTotal };
}

/** The sizes at which RSS is sampled on the way from `from` to `to` sleeping secrets. */
export function rssStepSizes(from: number, to: number, steps: number): number[] {
  if (to <= from) return [Math.max(from, to)];
  const sizes = new Set<number>();
  for (let i = 1; i <= steps; i++) sizes.add(Math.round(from + ((to - from) * i) / steps));
  return [...sizes];
}

/**
 * A straight-line extrapolation of RSS to `target` secrets from the two largest samples (the
 * growth once the workflow cache is full, which is what more secrets add). Honest only as far as
 * growth stays linear: it says nothing about a cliff the samples did not reach.
 */
export function extrapolateRss(
  samples: readonly { secrets: number; rss: number }[],
  target: number,
): { perThousand: number; atTarget: number } | undefined {
  const last = samples[samples.length - 1];
  const prev = samples[samples.length - 2];
  if (!last || !prev || last.secrets === prev.secrets) return undefined;
  const perSecret = (last.rss - prev.rss) / (last.secrets - prev.secrets);
  return {
    perThousand: perSecret * 1000,
    atTarget: last.rss + Math.max(0, perSecret) * (target - last.secrets),
  };
}
