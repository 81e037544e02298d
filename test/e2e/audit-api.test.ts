import { execFile } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { createToken } from '../../api/auth/tokens';
import { migrateOrThrow } from '../../db';
import { REPO_ROOT } from '../../devstack/paths';
import { Role, secretVaultPath } from '../../domain';
import { createFreshDatabase } from '../helpers/fresh-db';
import type { FreshDatabase } from '../helpers/fresh-db';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

interface AuditItem {
  id: string;
  seq: number;
  tenantId: string;
  secretName: string | null;
  actor: string;
  action: string;
  occurredAt: string;
}

describe('the audit API and `rotor audit`', () => {
  let rotor: TestRotor;
  let app: FastifyInstance;
  let apiUrl = '';
  // A database of its own: this file mints admin tokens and tampers with chains, neither of which
  // other files sharing the run's engine database should see.
  let fresh: FreshDatabase;
  const tenantA = uniqueName('audit-a');
  const tenantB = uniqueName('audit-b');
  const tenantC = uniqueName('audit-c');
  const tokens = { admin: '', security: '', operator: '', a: '', b: '' };
  /** Who tenant A's token acts as: its unique subject, recorded as the audit actor. */
  let alice = '';
  beforeAll(async () => {
    fresh = await createFreshDatabase('rotor_audit_api');
    await migrateOrThrow(fresh.db);
    rotor = await createTestRotor(testConfig({ DATABASE_URL: fresh.url }));
    await rotor.startWorker();
    app = buildApp({
      checks: {},
      logLevel: 'silent',
      services: { db: rotor.clients.db, temporal: rotor.client, config: rotor.config },
    });
    apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    const db = rotor.clients.db;
    for (const tenant of [tenantA, tenantB, tenantC])
      await db.insertInto('tenants').values({ id: tenant, name: tenant }).execute();
    tokens.admin = (await createToken(db, { name: 'ada@admin', role: Role.Admin })).token;
    tokens.security = (await createToken(db, { name: 'sid@security', role: Role.Security })).token;
    tokens.operator = (await createToken(db, { name: 'oz@ops', role: Role.Operator })).token;
    const aliceToken = await createToken(db, {
      name: 'alice@a',
      role: Role.Tenant,
      tenantId: tenantA,
    });
    tokens.a = aliceToken.token;
    alice = aliceToken.subject;
    tokens.b = (
      await createToken(db, { name: 'bert@b', role: Role.Tenant, tenantId: tenantB })
    ).token;

    for (const [tenant, token] of [
      [tenantA, tokens.a],
      [tenantC, tokens.admin],
    ] as const) {
      const created = await call(token, 'POST', '/api/v1/secrets', {
        tenantId: tenant,
        name: 'web-key',
        type: 'api_key',
      });
      expect(created.statusCode).toBe(201);
    }
    for (const tenant of [tenantA, tenantC])
      await waitForStatus(rotor.client, `secret/${tenant}/web-key`, (s) => s.state === 'ACTIVE');
    const rotated = await call(tokens.a, 'POST', `/api/v1/secrets/${tenantA}/web-key/rotate`, {
      reason: 'quarterly',
    });
    expect(rotated.statusCode).toBe(202);
    await waitForStatus(rotor.client, `secret/${tenantA}/web-key`, (s) => s.currentVersion === 2);
  });
  afterAll(async () => {
    await app?.close();
    await rotor?.close();
    await fresh?.drop();
  });

  function call(token: string | undefined, method: 'GET' | 'POST', url: string, payload?: unknown) {
    return app.inject({
      method,
      url,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  }
  const items = async (token: string, url: string): Promise<AuditItem[]> => {
    const res = await call(token, 'GET', url);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: AuditItem[] }>().items;
  };

  const cli = (
    token: string,
    ...args: string[]
  ): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(
        'bin/rotor',
        args,
        {
          cwd: REPO_ROOT,
          env: { PATH: process.env.PATH, ROTOR_API_URL: apiUrl, ROTOR_TOKEN: token },
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('lists a secret’s audit events newest first, with no secret value anywhere in them', async () => {
    const events = await items(tokens.a, `/api/v1/secrets/${tenantA}/web-key/audit`);
    const actions = events.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['secret.registered', 'rotation.requested', 'rotation.promoted']),
    );
    expect(actions.indexOf('rotation.promoted')).toBeLessThan(actions.indexOf('secret.registered'));
    expect(events.every((e) => e.tenantId === tenantA && e.secretName === 'web-key')).toBe(true);
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    expect(alice).toMatch(/^alice@a#[0-9a-f]{8}$/);
    expect(events.find((e) => e.action === 'rotation.requested')?.actor).toBe(alice);

    const path = `${rotor.config.vault.kvMount}/data/${secretVaultPath(tenantA, 'web-key')}`;
    const values: string[] = [];
    for (const version of [1, 2]) {
      const kv = (await rotor.vault.read(`${path}?version=${version}`)) as {
        data: { data: { value: string } };
      };
      values.push(kv.data.data.value);
    }
    expect(values[0]).not.toBe(values[1]);
    for (const url of [
      `/api/v1/secrets/${tenantA}/web-key/audit?limit=500`,
      `/api/v1/tenants/${tenantA}/audit?limit=500`,
    ]) {
      const body = (await call(tokens.admin, 'GET', url)).body;
      for (const value of values) expect(body).not.toContain(value);
    }
  });

  it('filters a tenant’s events by action, actor and time, and pages through them', async () => {
    const all = await items(tokens.a, `/api/v1/tenants/${tenantA}/audit?limit=500`);
    expect(all.length).toBeGreaterThanOrEqual(6);
    const rotations = await items(tokens.a, `/api/v1/tenants/${tenantA}/audit?action=rotation.*`);
    expect(rotations.length).toBeGreaterThan(0);
    expect(rotations.every((e) => e.action.startsWith('rotation.'))).toBe(true);
    expect(
      await items(tokens.a, `/api/v1/tenants/${tenantA}/audit?action=secret.registered`),
    ).toHaveLength(1);
    const byAlice = await items(
      tokens.a,
      `/api/v1/tenants/${tenantA}/audit?actor=${encodeURIComponent(alice)}`,
    );
    expect(byAlice.length).toBeGreaterThan(0);
    expect(byAlice.every((e) => e.actor === alice)).toBe(true);

    const oldest = all[all.length - 1]?.occurredAt ?? '';
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await items(tokens.a, `/api/v1/tenants/${tenantA}/audit?since=${future}`)).toEqual([]);
    expect(await items(tokens.a, `/api/v1/tenants/${tenantA}/audit?until=${oldest}`)).toEqual([]);
    // The lifecycle may still be writing: bound the window by what `all` saw.
    const newest = all[0]?.occurredAt ?? '';
    const ms = (iso: string, plus: number) => new Date(Date.parse(iso) + plus).toISOString();
    const window = await items(
      tokens.a,
      `/api/v1/tenants/${tenantA}/audit?limit=500&since=${ms(oldest, 1)}&until=${ms(newest, 1)}`,
    );
    expect(window.map((e) => e.id)).toEqual(
      all.filter((e) => e.occurredAt > oldest && e.occurredAt <= newest).map((e) => e.id),
    );

    const page1 = await items(
      tokens.a,
      `/api/v1/tenants/${tenantA}/audit?limit=2&until=${ms(newest, 1)}`,
    );
    const page2 = await items(
      tokens.a,
      `/api/v1/tenants/${tenantA}/audit?limit=2&offset=2&until=${ms(newest, 1)}`,
    );
    expect([...page1, ...page2].map((e) => e.id)).toEqual(all.slice(0, 4).map((e) => e.id));

    for (const query of ['since=yesterday', 'actor=a%00b', 'action=DROP%20TABLE', 'limit=501']) {
      const bad = await call(tokens.a, 'GET', `/api/v1/tenants/${tenantA}/audit?${query}`);
      expect(bad.statusCode, query).toBe(400);
      expect(bad.json()).toMatchObject({ error: { code: 'ROT_ERR_VALIDATION' } });
    }
  });

  it('keeps tenants apart: another tenant’s audit answers 404, as does an unknown tenant', async () => {
    for (const url of [
      `/api/v1/tenants/${tenantA}/audit`,
      `/api/v1/secrets/${tenantA}/web-key/audit`,
      `/api/v1/secrets/${tenantA}/no-such/audit`,
    ]) {
      const res = await call(tokens.b, 'GET', url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'ROT_ERR_NOT_FOUND' } });
    }
    expect((await call(tokens.admin, 'GET', '/api/v1/tenants/nobody-here/audit')).statusCode).toBe(
      404,
    );
    expect((await call(tokens.b, 'GET', `/api/v1/tenants/${tenantB}/audit`)).statusCode).toBe(200);
    expect((await call(undefined, 'GET', `/api/v1/tenants/${tenantA}/audit`)).statusCode).toBe(401);
    for (const token of [tokens.operator, tokens.a]) {
      expect((await call(token, 'GET', `/api/v1/audit/verify`)).statusCode).toBe(403);
      const archive = await call(token, 'POST', '/api/v1/audit/archive', { olderThanDays: 0 });
      expect(archive.statusCode).toBe(403);
    }
  });

  it('verifies a tenant’s chain, then names the row tampered with in PostgreSQL, through the API and the CLI', async () => {
    const ok = await call(tokens.security, 'GET', `/api/v1/audit/verify?tenantId=${tenantA}`);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, firstBreak: null });
    const intact = await cli(tokens.security, 'audit', 'verify', '--tenant', tenantA);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toContain('audit trail intact');

    const target = (
      await items(tokens.a, `/api/v1/tenants/${tenantA}/audit?action=rotation.requested`)
    )[0];
    expect(target).toBeDefined();
    // As someone holding the database's superuser keys would: triggers off, one row changed.
    await fresh.tamper((db) =>
      sql`update audit_events set actor = 'someone-else' where id = ${target?.id}`.execute(db),
    );

    const broken = await call(tokens.admin, 'GET', `/api/v1/audit/verify?tenantId=${tenantA}`);
    expect(broken.json()).toMatchObject({
      ok: false,
      firstBreak: { tenantId: tenantA, source: 'live', id: target?.id, reason: 'altered' },
    });
    const run = await cli(tokens.security, 'audit', 'verify', '--tenant', tenantA);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain(`row ${target?.id} (seq ${target?.seq}) was altered`);
    const asJson = await cli(tokens.security, '--json', 'audit', 'verify', '--tenant', tenantA);
    expect(asJson.code).toBe(2);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ firstBreak: { id: target?.id } });

    // Archiving would launder the tampering into a checkpoint, so it is refused with a 409.
    const refused = await call(tokens.admin, 'POST', '/api/v1/audit/archive', {
      olderThanDays: 0,
      tenantId: tenantA,
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ error: { code: 'ROT_ERR_AUDIT_CHAIN_BROKEN' } });
  });

  it('archives a tenant’s old events, leaving both the live chain and the archive verifiable', async () => {
    const before = await items(tokens.admin, `/api/v1/tenants/${tenantC}/audit?limit=500`);
    expect(before.length).toBeGreaterThan(0);
    const archive = await cli(
      tokens.admin,
      '--json',
      'audit',
      'archive',
      '--older-than-days',
      '0',
      '--tenant',
      tenantC,
    );
    expect(archive.code, archive.stderr).toBe(0);
    const result = JSON.parse(archive.stdout) as { rows: number; chains: { tenantId: string }[] };
    expect(result.rows).toBeGreaterThanOrEqual(before.length);
    expect(result.chains.map((c) => c.tenantId)).toEqual([tenantC]);

    // The lifecycle keeps writing after the checkpoint (a rotation here), and all of it verifies.
    await call(tokens.admin, 'POST', `/api/v1/secrets/${tenantC}/web-key/rotate`, {
      reason: 'after archive',
    });
    await waitForStatus(rotor.client, `secret/${tenantC}/web-key`, (s) => s.currentVersion === 2);
    const res = await call(tokens.security, 'GET', `/api/v1/audit/verify?tenantId=${tenantC}`);
    const report = res.json<{ ok: boolean; chains: { source: string; rows: number }[] }>();
    expect(report.ok).toBe(true);
    expect(report.chains.map((c) => c.source)).toEqual(['archive', 'live']);
    expect(report.chains.every((c) => c.rows > 0)).toBe(true);
    const events = await cli(
      tokens.admin,
      '--json',
      'audit',
      'events',
      '--tenant',
      tenantC,
      '--secret',
      'web-key',
    );
    expect(events.code, events.stderr).toBe(0);
    const listed = JSON.parse(events.stdout) as AuditItem[];
    expect(listed.map((e) => e.action)).toContain('rotation.promoted');
    expect(listed.map((e) => e.action)).not.toContain('secret.registered');
  });
});
