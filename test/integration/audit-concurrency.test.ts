import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, appendAudit, archiveAuditEvents, verifyAuditTrail } from '../../audit';
import type { AuditEntry } from '../../audit';
import { createDb, migrateOrThrow } from '../../db';
import type { Database } from '../../db';
import type { Kysely } from 'kysely';
import { createFreshDatabase } from '../helpers/fresh-db';
import type { FreshDatabase } from '../helpers/fresh-db';
import { uniqueName } from '../helpers/stack';

describe('audit appends at load, for one tenant', () => {
  let fresh: FreshDatabase;
  // A second pool stands for a second process (the API beside the worker).
  let other: Kysely<Database>;
  beforeAll(async () => {
    fresh = await createFreshDatabase('rotor_audit_load');
    await migrateOrThrow(fresh.db);
    other = createDb(fresh.url, { max: 10 });
  });
  afterAll(async () => {
    await other?.destroy();
    await fresh?.drop();
  });

  const entry = (tenantId: string, n: number, key = randomUUID()): AuditEntry => ({
    tenantId,
    actor: 'load@example.com',
    action: 'test.load',
    outcome: 'info',
    details: { n },
    idempotencyKey: key,
  });

  async function chainRows(tenant: string) {
    return fresh.db
      .selectFrom('audit_events')
      .select(['id', 'chain_seq', 'prev_hash', 'hash', 'idempotency_key'])
      .where('tenant_id', '=', tenant)
      .orderBy('id')
      .execute();
  }

  it('links 200 concurrent appends from two pools, alone and inside transactions, into one valid chain, each key once', async () => {
    const tenant = uniqueName('load');
    const keys = Array.from({ length: 200 }, () => randomUUID());
    await Promise.all(
      keys.map(async (key, i) => {
        const e = entry(tenant, i, key);
        // Four ways in at once: grouped appends on either pool, and appends inside a caller's
        // transaction (as the lifecycle's recording steps make them) on either pool.
        const db = i % 2 === 0 ? fresh.db : other;
        if (i % 4 < 2) await appendAudit(db, e);
        else await db.transaction().execute((trx) => appendAudit(trx, e));
      }),
    );
    // Retries of the first 50 (same keys), concurrently with 50 new ones: 50 rows more, not 100.
    await Promise.all([
      ...keys
        .slice(0, 50)
        .map((key, i) => appendAudit(i % 2 ? other : fresh.db, entry(tenant, i, key))),
      ...Array.from({ length: 50 }, (_, i) => appendAudit(fresh.db, entry(tenant, 200 + i))),
    ]);

    const rows = await chainRows(tenant);
    expect(rows).toHaveLength(250);
    expect(rows.map((r) => Number(r.chain_seq))).toEqual(
      Array.from({ length: 250 }, (_, i) => i + 1),
    );
    expect(rows[0]?.prev_hash).toBe(GENESIS_HASH);
    rows.slice(1).forEach((r, i) => expect(r.prev_hash).toBe(rows[i]?.hash));
    expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(250);
    const report = await verifyAuditTrail(fresh.db, { tenantId: tenant });
    expect(report.firstBreak).toBeNull();
    expect(report.chains).toEqual([
      expect.objectContaining({ source: 'live', rows: 250, fromSeq: 1, toSeq: 250, ok: true }),
    ]);
  });

  it('still names a row altered among concurrently appended ones', async () => {
    const tenant = uniqueName('load-tamper');
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => appendAudit(fresh.db, entry(tenant, i))),
    );
    const rows = await chainRows(tenant);
    const victim = rows[120];
    expect(victim).toBeDefined();
    await fresh.tamper((db) =>
      db
        .updateTable('audit_events')
        .set({ actor: 'mallory@example.com' })
        .where('id', '=', victim?.id ?? '')
        .execute(),
    );
    const report = await verifyAuditTrail(fresh.db, { tenantId: tenant });
    expect(report.ok).toBe(false);
    expect(report.firstBreak).toMatchObject({
      tenantId: tenant,
      source: 'live',
      id: victim?.id,
      seq: 121,
      reason: 'altered',
    });
  });

  it('keeps the chain whole when the archiver runs in the middle of concurrent appends', async () => {
    const tenant = uniqueName('load-archive');
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => appendAudit(fresh.db, entry(tenant, i))),
    );
    const cutoff = new Date(Date.now() + 1);
    await new Promise((r) => setTimeout(r, 5));
    const later = Array.from({ length: 150 }, (_, i) =>
      appendAudit(i % 2 ? other : fresh.db, entry(tenant, 50 + i)),
    );
    const archived = archiveAuditEvents(fresh.db, {
      before: cutoff,
      tenantId: tenant,
      actor: 'admin@example.com',
    });
    await Promise.all([...later, archived]);
    expect((await archived).rows).toBeGreaterThanOrEqual(50);
    const report = await verifyAuditTrail(fresh.db, { tenantId: tenant });
    expect(report.firstBreak).toBeNull();
    const total = report.chains.reduce((n, c) => n + c.rows, 0);
    expect(total).toBe(200);
  });

  it('fails only the append whose row is bad, not the others committed with it', async () => {
    const tenant = uniqueName('load-bad');
    const bad = { ...entry(tenant, 0), secretId: 'not-a-uuid' };
    const results = await Promise.allSettled([
      ...Array.from({ length: 20 }, (_, i) => appendAudit(fresh.db, entry(tenant, i + 1))),
      appendAudit(fresh.db, bad),
      ...Array.from({ length: 20 }, (_, i) => appendAudit(fresh.db, entry(tenant, i + 21))),
    ]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results[20]?.status).toBe('rejected');
    expect((await chainRows(tenant)).map((r) => Number(r.chain_seq))).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    expect((await verifyAuditTrail(fresh.db, { tenantId: tenant })).ok).toBe(true);
  });
});
