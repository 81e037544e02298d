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
