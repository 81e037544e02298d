import { randomUUID } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditChainBrokenError,
  GENESIS_HASH,
  appendAudit,
  archiveAuditEvents,
  auditHash,
  verifyAuditTrail,
} from '../../audit';
import { migrateOrThrow } from '../../db';
import { migrations } from '../../migrations';
import { createFreshDatabase } from '../helpers/fresh-db';
import type { FreshDatabase } from '../helpers/fresh-db';
import { uniqueName } from '../helpers/stack';

describe('the hash-chained audit trail', () => {
  let fresh: FreshDatabase;
  beforeAll(async () => {
    fresh = await createFreshDatabase('rotor_audit');
    await migrateOrThrow(fresh.db);
  });
  afterAll(async () => fresh?.drop());

  const append = (tenantId: string | null, action = 'test.event', key = randomUUID()) =>
    appendAudit(fresh.db, {
      tenantId,
      actor: 'alice@example.com',
      action,
      outcome: 'info',
      details: { n: 1, note: 'ids only', nested: null },
      idempotencyKey: key,
    });

  /** A tenant whose chain has `n` rows; returns their ids in chain order. */
  async function chainOf(n: number): Promise<{ tenant: string; ids: string[] }> {
    const tenant = uniqueName('chain');
    for (let i = 0; i < n; i += 1) await append(tenant, `test.step-${i + 1}`);
    const rows = await fresh.db
      .selectFrom('audit_events')
      .select('id')
      .where('tenant_id', '=', tenant)
      .orderBy('chain_seq')
      .execute();
    return { tenant, ids: rows.map((r) => r.id) };
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('links each tenant’s events into a chain of its own, one at a time, even when written concurrently', async () => {
    const a = uniqueName('conc-a');
    const b = uniqueName('conc-b');
    const keys = Array.from({ length: 60 }, () => randomUUID());
    const chains = [a, b, null];
    await Promise.all(keys.map((key, i) => append(chains[i % 3] ?? null, 'test.concurrent', key)));
    // A retried activity (same idempotency key) writes nothing new, concurrently or not.
    await Promise.all(keys.slice(0, 30).map((key, i) => append(chains[i % 3] ?? null, 'x', key)));
    for (const tenant of [a, b]) {
      const rows = await fresh.db
        .selectFrom('audit_events')
        .select(['chain_seq', 'prev_hash', 'hash', 'action'])
        .where('tenant_id', '=', tenant)
        .orderBy('id')
        .execute();
      expect(rows.map((r) => Number(r.chain_seq))).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      expect(rows[0]?.prev_hash).toBe(GENESIS_HASH);
      rows.slice(1).forEach((r, i) => expect(r.prev_hash).toBe(rows[i]?.hash));
      expect(new Set(rows.map((r) => r.action))).toEqual(new Set(['test.concurrent']));
    }
    const system = await fresh.db
      .selectFrom('audit_events')
      .select(sql<string>`count(*)`.as('n'))
      .where('tenant_id', 'is', null)
      .executeTakeFirstOrThrow();
    expect(Number(system.n)).toBe(20);
  });

  it('verifies untouched chains, every tenant’s and the system’s, naming no row', async () => {
    await chainOf(3);
    const report = await verifyAuditTrail(fresh.db);
    expect(report.firstBreak).toBeNull();
    expect(report.ok).toBe(true);
    expect(report.chains.length).toBeGreaterThanOrEqual(4);
    expect(report.chains.find((c) => c.tenantId === null)).toMatchObject({ ok: true, rows: 20 });
    for (const chain of report.chains) expect(chain.headHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names a row whose content was altered in PostgreSQL', async () => {
    const { tenant, ids } = await chainOf(5);
    await fresh.tamper((db) =>
      db
        .updateTable('audit_events')
        .set({ actor: 'mallory@example.com' })
        .where('id', '=', ids[2] ?? '')
        .execute(),
    );
    const report = await verifyAuditTrail(fresh.db, { tenantId: tenant });
    expect(report.ok).toBe(false);
    expect(report.firstBreak).toMatchObject({
      tenantId: tenant,
      source: 'live',
      id: ids[2],
      seq: 3,
      reason: 'altered',
    });
  });

  it('names an altered row even when the attacker recomputed its hash', async () => {
    const { tenant, ids } = await chainOf(5);
    const row = await fresh.db
      .selectFrom('audit_events')
      .selectAll()
      .where('id', '=', ids[1] ?? '')
      .executeTakeFirstOrThrow();
    const forged = auditHash({
      tenantId: row.tenant_id,
      secretId: row.secret_id,
      rotationId: row.rotation_id,
      actor: row.actor,
      action: 'test.innocent',
      outcome: row.outcome,
      details: row.details,
      idempotencyKey: row.idempotency_key,
      occurredAt: row.occurred_at,
      seq: Number(row.chain_seq),
      prevHash: row.prev_hash,
    });
    await fresh.tamper((db) =>
      sql`update audit_events set action = 'test.innocent', hash = ${forged} where id = ${row.id}`.execute(
        db,
      ),
    );
    expect((await verifyAuditTrail(fresh.db, { tenantId: tenant })).firstBreak).toMatchObject({
      id: ids[1],
      seq: 2,
      reason: 'altered',
    });
  });

  it('names the row after a deleted one, saying which sequence number is missing', async () => {
    const { tenant, ids } = await chainOf(5);
    await fresh.tamper((db) =>
      db
        .deleteFrom('audit_events')
        .where('id', '=', ids[2] ?? '')
        .execute(),
    );
    const { firstBreak } = await verifyAuditTrail(fresh.db, { tenantId: tenant });
    expect(firstBreak).toMatchObject({ id: ids[3], seq: 4, reason: 'missing' });
    expect(firstBreak?.message).toContain('seq 3');
  });

  it('names a reordered row', async () => {
    const { tenant, ids } = await chainOf(5);
    const [second, third] = [ids[1] ?? '', ids[2] ?? ''];
    // Swap the ids (the order rows are read in) of seq 2 and seq 3.
    await fresh.tamper(async (db) => {
      await sql`update audit_events set id = -1 where id = ${second}`.execute(db);
      await sql`update audit_events set id = ${second} where id = ${third}`.execute(db);
      await sql`update audit_events set id = ${third} where id = -1`.execute(db);
    });
    expect((await verifyAuditTrail(fresh.db, { tenantId: tenant })).firstBreak).toMatchObject({
      id: second,
      seq: 3,
      reason: 'reordered',
    });
  });

  it('notices rows deleted from the end of a chain', async () => {
    const { tenant, ids } = await chainOf(4);
    await fresh.tamper((db) =>
      db
        .deleteFrom('audit_events')
        .where('id', '=', ids[3] ?? '')
        .execute(),
    );
    expect((await verifyAuditTrail(fresh.db, { tenantId: tenant })).firstBreak).toMatchObject({
      id: null,
      seq: 4,
      reason: 'truncated',
    });
  });

  it('refuses UPDATE, TRUNCATE, and any DELETE that is not the archiver moving an archived row', async () => {
    const { ids } = await chainOf(2);
    const id = ids[0] ?? '';
    await expect(
      fresh.db
        .updateTable('audit_events')
        .set({ outcome: 'failure' })
        .where('id', '=', id)
        .execute(),
    ).rejects.toThrow(/append-only \(UPDATE refused\)/);
    await expect(
      fresh.db.deleteFrom('audit_events').where('id', '=', id).execute(),
    ).rejects.toThrow(/append-only \(DELETE refused\)/);
    await expect(sql`truncate audit_events`.execute(fresh.db)).rejects.toThrow(
      /append-only \(TRUNCATE refused\)/,
    );
    // The archiver's setting alone is not enough: the row must already be in the archive.
    await expect(
      fresh.db.transaction().execute(async (trx) => {
        await sql`select set_config('rotor.audit_archiving', 'on', true)`.execute(trx);
        await trx.deleteFrom('audit_events').where('id', '=', id).execute();
      }),
    ).rejects.toThrow(/append-only \(DELETE refused\)/);
    await expect(
      fresh.db.transaction().execute(async (trx) => {
        await sql`select set_config('rotor.audit_archiving', 'on', true)`.execute(trx);
        await trx.updateTable('audit_events').set({ actor: 'x' }).where('id', '=', id).execute();
      }),
    ).rejects.toThrow(/append-only \(UPDATE refused\)/);
    // The archive and its checkpoints are append-only outright.
    const archived = await chainOf(1);
    await archiveAuditEvents(fresh.db, {
      before: new Date(Date.now() + 1000),
      tenantId: archived.tenant,
      actor: 'admin@example.com',
    });
    for (const table of ['audit_events_archive', 'audit_checkpoints']) {
      await expect(sql`delete from ${sql.table(table)}`.execute(fresh.db)).rejects.toThrow(
        /append-only \(DELETE refused\)/,
      );
    }
    const kept = await fresh.db
      .selectFrom('audit_events')
      .select('id')
      .where('id', 'in', ids)
      .execute();
    expect(kept).toHaveLength(2);
  });

  it('archives rows older than the cutoff, leaving a checkpoint the live chain verifies from', async () => {
    const { tenant, ids } = await chainOf(4);
    await sleep(20);
    const cutoff = new Date();
    await sleep(20);
    for (let i = 0; i < 3; i += 1) await append(tenant, 'test.after-cutoff');

    const result = await archiveAuditEvents(fresh.db, {
      before: cutoff,
      tenantId: tenant,
      actor: 'admin@example.com',
    });
    expect(result.rows).toBe(4);
    expect(result.chains).toHaveLength(1);
    expect(result.chains[0]).toMatchObject({ tenantId: tenant, rows: 4, throughSeq: 4 });
    expect(result.chains[0]?.throughHash).toMatch(/^[0-9a-f]{64}$/);
    const live = await fresh.db
      .selectFrom('audit_events')
      .select(['chain_seq', 'action'])
      .where('tenant_id', '=', tenant)
      .orderBy('id')
      .execute();
    expect(live.map((r) => Number(r.chain_seq))).toEqual([5, 6, 7]);
    const archived = await fresh.db
      .selectFrom('audit_events_archive')
      .select('id')
      .where('tenant_id', '=', tenant)
      .orderBy('id')
      .execute();
    expect(archived.map((r) => r.id)).toEqual(ids);

    const report = await verifyAuditTrail(fresh.db, { tenantId: tenant });
    expect(report.ok).toBe(true);
    expect(report.chains).toEqual([
      expect.objectContaining({ source: 'archive', rows: 4, fromSeq: 1, toSeq: 4, ok: true }),
      expect.objectContaining({ source: 'live', rows: 3, fromSeq: 5, toSeq: 7, ok: true }),
    ]);

    // The chain goes on after the checkpoint, and archiving everything still leaves it verifiable.
    await append(tenant, 'test.later');
    const all = await archiveAuditEvents(fresh.db, {
      before: new Date(Date.now() + 1000),
      tenantId: tenant,
      actor: 'admin@example.com',
    });
    expect(all.rows).toBe(4);
    await append(tenant, 'test.after-everything');
    const again = await verifyAuditTrail(fresh.db, { tenantId: tenant });
    expect(again.firstBreak).toBeNull();
    expect(again.chains.map((c) => [c.source, c.fromSeq, c.toSeq])).toEqual([
      ['archive', 1, 8],
      ['live', 9, 9],
    ]);
    // The archiving itself is audited, in the system chain.
    const audited = await fresh.db
      .selectFrom('audit_events')
      .select(['actor', 'details'])
      .where('action', '=', 'audit.archived')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    expect(audited).toMatchObject({ actor: 'admin@example.com', details: { rows: 4 } });
  });

  it('refuses to archive a broken chain, naming the bad row and moving nothing', async () => {
    const { tenant, ids } = await chainOf(3);
    await fresh.tamper((db) =>
      db
        .updateTable('audit_events')
        .set({ outcome: 'success' })
        .where('id', '=', ids[1] ?? '')
        .execute(),
    );
    const attempt = archiveAuditEvents(fresh.db, {
      before: new Date(Date.now() + 1000),
      tenantId: tenant,
      actor: 'admin@example.com',
    });
    await expect(attempt).rejects.toBeInstanceOf(AuditChainBrokenError);
    await expect(attempt).rejects.toThrow(new RegExp(`row ${ids[1]} \\(seq 2\\) was altered`));
    const left = await fresh.db
      .selectFrom('audit_events')
      .select('id')
      .where('tenant_id', '=', tenant)
      .execute();
    expect(left).toHaveLength(3);
  });

  it('verifies the archive on its own, and names an archived row altered there', async () => {
    const { tenant, ids } = await chainOf(3);
    await archiveAuditEvents(fresh.db, {
      before: new Date(Date.now() + 1000),
      tenantId: tenant,
      actor: 'admin@example.com',
    });
    expect((await verifyAuditTrail(fresh.db, { tenantId: tenant, scope: 'archive' })).ok).toBe(
      true,
    );
    await fresh.tamper((db) =>
      sql`update audit_events_archive set details = '{"n": 2}' where id = ${ids[0]}`.execute(db),
    );
    const report = await verifyAuditTrail(fresh.db, { tenantId: tenant });
    expect(report.firstBreak).toMatchObject({
      source: 'archive',
      id: ids[0],
      seq: 1,
      reason: 'altered',
    });
  });

  it('chains rows written before the chain existed when migrating an older database', async () => {
    const old = await createFreshDatabase('rotor_audit_old');
    try {
      const migrator = new Migrator({
        db: old.db,
        provider: { getMigrations: () => Promise.resolve(migrations) },
      });
      const { error } = await migrator.migrateTo('0002_notification_deliveries');
      expect(error).toBeUndefined();
      const tenant = uniqueName('legacy');
      for (const [i, t] of [tenant, null, tenant, tenant].entries()) {
        await sql`insert into audit_events (tenant_id, actor, action, outcome, details, idempotency_key)
          values (${t}, 'legacy', ${`legacy.${i}`}, 'info', ${JSON.stringify({ i, z: 1, a: [1, { b: 2 }] })}, ${randomUUID()})`.execute(
          old.db,
        );
      }
      await migrateOrThrow(old.db);
      expect((await verifyAuditTrail(old.db)).firstBreak).toBeNull();
      await appendAudit(old.db, {
        tenantId: tenant,
        actor: 'new',
        action: 'after.migration',
        outcome: 'info',
        idempotencyKey: randomUUID(),
      });
      const report = await verifyAuditTrail(old.db);
      expect(report.ok).toBe(true);
      expect(report.chains.find((c) => c.tenantId === tenant)).toMatchObject({
        rows: 4,
        toSeq: 4,
      });
    } finally {
      await old.drop();
    }
  });
});
