import { randomUUID } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { appendAudit } from '../../audit';
import { createDb, migrateToLatest } from '../../db';
import type { Database } from '../../db';
import { migrations } from '../../migrations';

describe('the engine database', () => {
  let db: Kysely<Database>;
  beforeAll(() => {
    db = createDb(inject('stack').databaseUrl, { max: 2 });
  });
  afterAll(async () => db?.destroy());

  it('is migrated to the latest version by the runner, and a second run changes nothing', async () => {
    const { error, results } = await migrateToLatest(db);
    expect(error).toBeUndefined();
    expect(results).toEqual([]);
    const tables = await sql<{ tablename: string }>`
      select tablename from pg_tables where schemaname = 'public' order by tablename`.execute(db);
    expect(tables.rows.map((r) => r.tablename)).toEqual(
      expect.arrayContaining([
        'api_tokens',
        'approvals',
        'audit_chain_heads',
        'audit_checkpoints',
        'audit_events',
        'audit_events_archive',
        'idempotency_keys',
        'api_keys',
        'rotations',
        'secrets',
        'tenants',
      ]),
    );
  });

  it('refuses to update or delete an audit row', async () => {
    const key = `test-${randomUUID()}`;
    // appendAudit is the one way in: it links the row into its chain.
    await appendAudit(db, {
      tenantId: null,
      actor: 'test',
      action: 'test.append',
      outcome: 'info',
      idempotencyKey: key,
    });
    await expect(
      db
        .updateTable('audit_events')
        .set({ outcome: 'failure' })
        .where('idempotency_key', '=', key)
        .execute(),
    ).rejects.toThrow(/append-only \(UPDATE refused\)/);
    await expect(
      db.deleteFrom('audit_events').where('idempotency_key', '=', key).execute(),
    ).rejects.toThrow(/append-only \(DELETE refused\)/);
    const row = await db
      .selectFrom('audit_events')
      .select('outcome')
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    expect(row?.outcome).toBe('info');
  });

  it('applies every migration down and up again on a fresh database', async () => {
    const name = `rotor_migrate_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const admin = new pg.Client({ connectionString: inject('stack').postgresAdminUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(inject('stack').postgresAdminUrl);
    url.pathname = `/${name}`;
    const fresh = new Kysely<any>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ connectionString: url.toString(), max: 1 }),
      }),
    });
    try {
      expect((await migrateToLatest(fresh)).results?.map((r) => r.status)).toEqual(
        Object.keys(migrations).map(() => 'Success'),
      );
      for (const migration of Object.values(migrations).reverse()) await migration.down?.(fresh);
      const left = await sql<{ n: number }>`
        select count(*)::int as n from pg_tables where schemaname = 'public' and tablename not like 'kysely_%'`.execute(
        fresh,
      );
      expect(left.rows[0]?.n).toBe(0);
    } finally {
      await fresh.destroy();
      await admin.query(`drop database ${name}`);
      await admin.end();
    }
  });
});
