import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { authenticate, createToken, ensureBootstrapAdmin } from '../../api/auth/tokens';
import { loadConfig } from '../../config';
import { Role } from '../../domain';
import { buildEngineClients } from '../../engine';
import { withFreshDatabase } from '../helpers/fresh-db';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('the HTTP API', () => {
  let rotor: TestRotor;
  let app: FastifyInstance;
  const tenantA = uniqueName('tenant-a');
  const tenantB = uniqueName('tenant-b');
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    app = buildApp({
      checks: {},
      logLevel: 'silent',
      services: { db: rotor.clients.db, temporal: rotor.client, config: rotor.config },
    });
    const db = rotor.clients.db;
    // Bootstrap itself is tested on a database of its own: in the shared one, another test file
    // may have made the first admin token already.
    tokens.admin = (await createToken(db, { name: 'root@admin', role: Role.Admin })).token;
    tokens.security = (await createToken(db, { name: 'bob@security', role: Role.Security })).token;
    tokens.operator = (await createToken(db, { name: 'olga@ops', role: Role.Operator })).token;
    for (const tenant of [tenantA, tenantB]) {
      await db.insertInto('tenants').values({ id: tenant, name: tenant }).execute();
    }
    tokens.a = (
      await createToken(db, { name: 'alice@a', role: Role.Tenant, tenantId: tenantA })
    ).token;
    tokens.b = (
      await createToken(db, { name: 'bert@b', role: Role.Tenant, tenantId: tenantB })
    ).token;
  });
  afterAll(async () => {
    await app?.close();
    await rotor?.close();
  });

  const call = (
    token: string | undefined,
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: unknown,
  ) =>
    app.inject({
      method,
      url,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  it('creates a bootstrap admin token once, and never again', async () => {
    await withFreshDatabase(async (db) => {
      const first = (await ensureBootstrapAdmin(db)) ?? '';
      expect(first).toMatch(/^rtr_[A-Za-z0-9_-]{43}$/);
      expect(await ensureBootstrapAdmin(db)).toBeNull();
      expect(await authenticate(db, `Bearer ${first}`)).toMatchObject({ role: 'admin' });
      const stored = await db.selectFrom('api_tokens').select('token_hash').execute();
      expect(stored).toHaveLength(1);
      expect(JSON.stringify(stored)).not.toContain(first);
    });
  });

  it('refuses requests without a valid token with a coded 401', async () => {
    for (const token of [undefined, 'rtr_not-a-real-token', 'Basic abc']) {
      const res = await call(token, 'GET', '/api/v1/secrets');
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'ROT_ERR_UNAUTHENTICATED' } });
    }
  });

  it('lets a tenant create a secret of its own, which starts its lifecycle', async () => {
    const res = await call(tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: tenantA,
      name: 'web-key',
      type: 'api_key',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      workflowId: `secret/${tenantA}/web-key`,
      tenantId: tenantA,
      name: 'web-key',
    });
    await waitForStatus(rotor.client, `secret/${tenantA}/web-key`, (s) => s.state === 'ACTIVE');
    const got = await call(tokens.a, 'GET', `/api/v1/secrets/${tenantA}/web-key`);
    expect(got.json()).toMatchObject({ state: 'ACTIVE', currentVersion: 1, type: 'api_key' });
    expect(got.json<{ rotations: unknown[] }>().rotations).toHaveLength(1);
  });

  it('answers bad input with a coded 400 naming each field, never a 5xx', async () => {
    const bad = await call(tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: tenantA,
      name: '../x',
      type: 'ssh_key',
      policy: { graceSeconds: -1 },
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json<{ error: { code: string; issues: { field: string }[] } }>()
        .error.issues.map((i) => i.field)
        .sort(),
    ).toEqual(['name', 'policy.graceSeconds', 'type']);
    const query = await call(tokens.a, 'GET', '/api/v1/secrets?limit=100000&color=red');
    expect(query.statusCode).toBe(400);
    expect(query.json()).toMatchObject({ error: { code: 'ROT_ERR_VALIDATION' } });
    const huge = await call(tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: tenantA,
      padding: 'x'.repeat(70_000),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json<{ error: { code: string } }>().error.code).toMatch(/^ROT_ERR_/);
  });

  it('keeps tenants apart: another tenant’s secret answers 404 or 403 on every endpoint', async () => {
    const created = await call(tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: tenantA,
      name: 'private',
      type: 'service_token',
    });
    expect(created.statusCode).toBe(201);
    const matrix: [string, 'GET' | 'POST' | 'PUT', string, unknown][] = [
      [
        'create in another tenant',
        'POST',
        '/api/v1/secrets',
        { tenantId: tenantA, name: 'x', type: 'api_key' },
      ],
      ['read', 'GET', `/api/v1/secrets/${tenantA}/private`, undefined],
      ['rotate', 'POST', `/api/v1/secrets/${tenantA}/private/rotate`, { reason: 'x' }],
      ['retire', 'POST', `/api/v1/secrets/${tenantA}/private/retire`, { reason: 'x' }],
      ['break-glass', 'POST', `/api/v1/secrets/${tenantA}/private/break-glass`, { reason: 'x' }],
      ['approve', 'POST', `/api/v1/secrets/${tenantA}/private/approve`, { rotationId: 'r' }],
      [
        'reject',
        'POST',
        `/api/v1/secrets/${tenantA}/private/reject`,
        { rotationId: 'r', reason: 'x' },
      ],
      [
        'notification settings',
        'PUT',
        `/api/v1/tenants/${tenantA}/notification-settings`,
        { emails: [] },
      ],
      ['create tokens', 'POST', '/api/v1/tokens', { name: 'x', role: 'admin' }],
    ];
    for (const [what, method, url, body] of matrix) {
      const res = await call(tokens.b, method, url, body);
      expect([403, 404], `${what}: ${res.statusCode} ${res.body}`).toContain(res.statusCode);
    }
    for (const url of [
      `/api/v1/secrets?tenantId=${tenantA}`,
      `/api/v1/approvals?tenantId=${tenantA}`,
      `/api/v1/notifications/failures?tenantId=${tenantA}`,
    ]) {
      expect((await call(tokens.b, 'GET', url)).statusCode, url).toBe(404);
    }
    const own = await call(tokens.b, 'GET', '/api/v1/secrets');
    expect(
      own.json<{ items: { tenantId: string }[] }>().items.every((i) => i.tenantId === tenantB),
    ).toBe(true);
    const state = await waitForStatus(
      rotor.client,
      `secret/${tenantA}/private`,
      (s) => s.state === 'ACTIVE',
    );
    expect(state.rotationsCompleted).toBe(1);
  });

  it('takes approval roles from the token: only security approves, and the rotation then completes', async () => {
    const created = await call(tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: tenantA,
      name: 'orders-db',
      type: 'database_password',
    });
    expect(created.statusCode).toBe(201);
    await waitForStatus(rotor.client, `secret/${tenantA}/orders-db`, (s) => s.state === 'ACTIVE');
    expect(
      (
        await call(tokens.a, 'POST', `/api/v1/secrets/${tenantA}/orders-db/rotate`, {
          reason: 'quarterly',
        })
      ).statusCode,
    ).toBe(202);
    const pending = await waitForStatus(
      rotor.client,
      `secret/${tenantA}/orders-db`,
      (s) => s.state === 'AWAITING_APPROVAL',
    );
    const rotationId = pending.pendingApproval?.rotationId;
    const listed = await call(tokens.security, 'GET', `/api/v1/approvals?tenantId=${tenantA}`);
    expect(listed.statusCode).toBe(200);
    expect(
      (
        await call(tokens.operator, 'POST', `/api/v1/secrets/${tenantA}/orders-db/approve`, {
          rotationId,
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (await call(tokens.a, 'POST', `/api/v1/secrets/${tenantA}/orders-db/approve`, { rotationId }))
        .statusCode,
    ).toBe(403);
    const stale = await call(
      tokens.security,
      'POST',
      `/api/v1/secrets/${tenantA}/orders-db/approve`,
      { rotationId: 'stale' },
    );
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ error: { code: 'ROT_ERR_APPROVAL_REFUSED' } });
    const ok = await call(tokens.security, 'POST', `/api/v1/secrets/${tenantA}/orders-db/approve`, {
      rotationId,
    });
    expect(ok.statusCode).toBe(200);
    // Recorded by subject (the token's name plus a unique suffix), not by the name alone.
    expect(ok.json()).toMatchObject({
      outcome: 'approved',
      approvals: [expect.stringMatching(/^bob@security#[0-9a-f]{8}$/)],
    });
    await waitForStatus(rotor.client, `secret/${tenantA}/orders-db`, (s) => s.currentVersion === 2);
  });

  it('serves its OpenAPI document and an interactive docs page', async () => {
    const doc = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(doc.statusCode).toBe(200);
    const paths = Object.keys(doc.json<{ paths: Record<string, unknown> }>().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/v1/secrets',
        '/api/v1/secrets/{tenantId}/{name}',
        '/api/v1/approvals',
        '/api/v1/tokens',
      ]),
    );
    const docs = await app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
  });

  it('exposes Prometheus metrics counted from the engine database', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const completed = /^rotations_total\{type="api_key",outcome="completed"\} (\d+)$/m.exec(
      res.body,
    )?.[1];
    expect(Number(completed)).toBeGreaterThanOrEqual(1);
    expect(res.body).toMatch(/^secrets_by_state\{state="ACTIVE"\} [1-9]\d*$/m);
    expect(res.body).toMatch(/^approvals_pending \d+$/m);
    expect(res.body).toMatch(/^secrets_overdue \d+$/m);
  });

  /** GET /api/v1/secrets as the admin, through an API whose engine database is `databaseUrl`. */
  const listSecretsWithDatabase = async (databaseUrl: string) => {
    const broken = buildEngineClients(loadConfig({ DATABASE_URL: databaseUrl, VAULT_TOKEN: 'x' }));
    const brokenApp = buildApp({
      checks: {},
      logLevel: 'silent',
      services: { db: broken.db, temporal: rotor.client, config: rotor.config },
    });
    try {
      return await brokenApp.inject({
        method: 'GET',
        url: '/api/v1/secrets',
        headers: { authorization: `Bearer ${tokens.admin}` },
      });
    } finally {
      await brokenApp.close();
      await broken.db.destroy();
    }
  };

  it('never leaks internals in a 5xx', async () => {
    // A real bug, not an outage: a database that answers but has none of Rotor's tables.
    const bare = new URL(rotor.config.databaseUrl);
    bare.pathname = '/postgres';
    const res = await listSecretsWithDatabase(bare.toString());
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      error: { code: 'ROT_ERR_INTERNAL', message: 'Internal error' },
    });
    expect(res.body).not.toMatch(/api_tokens|relation|does not exist|127\.0\.0\.1/);
    if (bare.password) expect(res.body).not.toContain(decodeURIComponent(bare.password));
  });

  it('answers an unreachable engine database with a coded 503 that leaks nothing either', async () => {
    const res = await listSecretsWithDatabase(
      'postgresql://rotor:hunter2-db-password@127.0.0.1:9/rotor',
    );
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toEqual({
      error: {
        code: 'ROT_ERR_DEPENDENCY_UNAVAILABLE',
        message: 'The engine database is not reachable right now; retry in 5 seconds',
      },
    });
    expect(res.body).not.toMatch(/hunter2|ECONNREFUSED|127\.0\.0\.1/);
  });

  it('works over a real port, and an admin can mint a tenant token there', async () => {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${address}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'carol@c', role: 'tenant', tenantId: uniqueName('tenant-c') }),
    });
    expect(res.status).toBe(201);
    const minted = (await res.json()) as { token: string };
    const mine = await fetch(`${address}/api/v1/secrets`, {
      headers: { authorization: `Bearer ${minted.token}` },
    });
    expect(mine.status).toBe(200);
    expect(await mine.json()).toMatchObject({ items: [] });
  });
});
