import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../api/auth/tokens';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestApi } from '../helpers/api';
import type { Method, TestApi } from '../helpers/api';
import { createTestRotor, testConfig } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

/** One endpoint, as the OpenAPI document names it, called with tenant A's resources. */
interface Row {
  method: Method;
  /** The OpenAPI path template, so a row can never name a route that does not exist. */
  path: string;
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  /** Also call it as the owner and expect 2xx, proving the resource is there to be hidden. */
  ownerSees?: boolean;
}

/** Endpoints with nothing tenant-scoped behind them: the same answer for every caller. */
const GLOBAL = new Set(['GET /api/v1/types']);

/**
 * Endpoints whose isolation is a 200 that reveals nothing, proved in their own test: verifying
 * another tenant's API key answers `valid: false` (test/e2e/tenant-api-keys.test.ts).
 */
const ISOLATED_ELSEWHERE = new Set(['POST /api/v1/api-keys/verify']);

describe('tenant isolation: every tenant-scoped endpoint × another tenant’s resources', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let a = '';
  let rotationId = '';
  let batchId = '';
  let tokenId = '';
  let webhookId = '';
  beforeAll(async () => {
    // Tenant A's webhook endpoint is on loopback (nothing listens there): allowed, that far only.
    rotor = await createTestRotor(testConfig({ ROTOR_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32' }));
    await rotor.startWorker();
    api = await createTestApi(rotor);
    a = api.tenantA;
    const created = await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: a,
      name: 'private',
      type: 'service_token',
      policy: { allowValueRead: true },
    });
    expect(created.statusCode, created.body).toBe(201);
    await waitForStatus(rotor.client, `secret/${a}/private`, (s) => s.state === 'ACTIVE');
    const rotations = await api.call(api.tokens.a, 'GET', '/api/v1/rotations?secret=private');
    rotationId = rotations.json<{ items: { id: string }[] }>().items[0]?.id ?? '';
    expect(rotationId).not.toBe('');
    // A batch for tenant A with no secrets in it: it exists, and rotates nothing.
    const batch = await api.call(api.tokens.admin, 'POST', '/api/v1/rotations/bulk', {
      tenantId: a,
      type: 'tls_certificate',
      reason: 'isolation test',
    });
    expect(batch.statusCode, batch.body).toBe(202);
    batchId = batch.json<{ batchId: string }>().batchId;
    // Tenant A's own token: another tenant may neither see it nor revoke or rotate it.
    tokenId = (
      await rotor.clients.db
        .selectFrom('api_tokens')
        .select('id')
        .where('token_hash', '=', hashToken(api.tokens.a))
        .executeTakeFirstOrThrow()
    ).id;
    // A webhook endpoint of tenant A's (nothing listens there: no row sends to it as the owner).
    const hook = await api.call(api.tokens.a, 'POST', `/api/v1/tenants/${a}/webhooks`, {
      url: 'http://127.0.0.1:9/hooks/rotor',
    });
    expect(hook.statusCode, hook.body).toBe(201);
    webhookId = hook.json<{ id: string }>().id;
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  const secret = () => ({ tenantId: a, name: 'private' });
  const matrix = (): Row[] => [
    { method: 'POST', path: '/api/v1/secrets', body: { tenantId: a, name: 'x', type: 'api_key' } },
    { method: 'GET', path: '/api/v1/secrets', query: `tenantId=${a}`, ownerSees: true },
    { method: 'GET', path: '/api/v1/secrets/{tenantId}/{name}', params: secret(), ownerSees: true },
    {
      method: 'POST',
      path: '/api/v1/secrets/{tenantId}/{name}/rotate',
      params: secret(),
      body: { reason: 'x' },
    },
    {
      method: 'POST',
      path: '/api/v1/secrets/{tenantId}/{name}/retire',
      params: secret(),
      body: { reason: 'x' },
    },
    {
      method: 'POST',
      path: '/api/v1/secrets/{tenantId}/{name}/break-glass',
      params: secret(),
      body: { reason: 'x' },
    },
    ...(['pause', 'resume', 'retry'] as const).map((action): Row => ({
      method: 'POST',
      path: `/api/v1/secrets/{tenantId}/{name}/${action}`,
      params: secret(),
      body: { reason: 'x' },
    })),
    {
      method: 'PUT',
      path: '/api/v1/secrets/{tenantId}/{name}/policy',
      params: secret(),
      body: { allowValueRead: true },
    },
    {
      method: 'POST',
      path: '/api/v1/secrets/{tenantId}/{name}/value',
      params: secret(),
      body: { reason: 'x' },
      ownerSees: true,
    },
    {
      method: 'POST',
      path: '/api/v1/secrets/{tenantId}/{name}/approve',
      params: secret(),
      body: { rotationId },
    },
    {
      method: 'POST',
      path: '/api/v1/secrets/{tenantId}/{name}/reject',
      params: secret(),
      body: { rotationId, reason: 'x' },
    },
    { method: 'GET', path: '/api/v1/approvals', query: `tenantId=${a}`, ownerSees: true },
    {
      method: 'POST',
      path: '/api/v1/rotations/bulk',
      body: { tenantId: a, reason: 'x' },
    },
    {
      method: 'GET',
      path: '/api/v1/rotations/bulk/{batchId}',
      params: { batchId },
      ownerSees: true,
    },
    { method: 'GET', path: '/api/v1/rotations', query: `tenantId=${a}`, ownerSees: true },
    {
      method: 'GET',
      path: '/api/v1/rotations/{rotationId}',
      params: { rotationId },
      ownerSees: true,
    },
    {
      method: 'GET',
      path: '/api/v1/rotations/due',
      query: `withinDays=60&tenantId=${a}`,
      ownerSees: true,
    },
    { method: 'GET', path: '/api/v1/stats', query: `tenantId=${a}`, ownerSees: true },
    { method: 'GET', path: '/api/v1/tenants' },
    { method: 'GET', path: '/api/v1/tenants/{tenantId}', params: { tenantId: a }, ownerSees: true },
    {
      method: 'PUT',
      path: '/api/v1/tenants/{tenantId}/notification-settings',
      params: { tenantId: a },
      body: { emails: ['intruder@b.example'] },
    },
    {
      method: 'GET',
      path: '/api/v1/notifications/failures',
      query: `tenantId=${a}`,
      ownerSees: true,
    },
    { method: 'POST', path: '/api/v1/tokens', body: { name: 'x', role: 'admin' } },
    { method: 'GET', path: '/api/v1/tokens', query: `tenantId=${a}` },
    {
      method: 'POST',
      path: '/api/v1/tokens/{tokenId}/revoke',
      params: { tokenId },
      body: { reason: 'x' },
    },
    {
      method: 'POST',
      path: '/api/v1/tokens/{tokenId}/rotate',
      params: { tokenId },
      body: { reason: 'x' },
    },
    {
      method: 'POST',
      path: '/api/v1/secrets/{tenantId}/{name}/supply',
      params: secret(),
      body: { value: 'intruder-value' },
    },
    {
      method: 'GET',
      path: '/api/v1/secrets/{tenantId}/{name}/audit',
      params: secret(),
      ownerSees: true,
    },
    {
      method: 'GET',
      path: '/api/v1/tenants/{tenantId}/audit',
      params: { tenantId: a },
      ownerSees: true,
    },
    { method: 'GET', path: '/api/v1/audit/verify', query: `tenantId=${a}` },
    { method: 'POST', path: '/api/v1/audit/archive', body: { olderThanDays: 1 } },
    // Connections are deployment configuration: admin only, whatever the tenant.
    { method: 'GET', path: '/api/v1/connections' },
    { method: 'GET', path: '/api/v1/connections/{name}', params: { name: 'default' } },
    {
      method: 'PUT',
      path: '/api/v1/connections/{name}',
      params: { name: 'intruder' },
      body: {
        kind: 'redis',
        host: '127.0.0.1',
        port: 6379,
        credential: { username: 'x', password: 'intruder-value' },
      },
    },
    { method: 'DELETE', path: '/api/v1/connections/{name}', params: { name: 'intruder' } },
    { method: 'POST', path: '/api/v1/connections/{name}/test', params: { name: 'default' } },
    {
      method: 'GET',
      path: '/api/v1/reports/security',
      query: `tenantId=${a}`,
      ownerSees: true,
    },
    {
      method: 'POST',
      path: '/api/v1/tenants/{tenantId}/webhooks',
      params: { tenantId: a },
      body: { url: 'https://intruder.example/hook' },
    },
    {
      method: 'GET',
      path: '/api/v1/tenants/{tenantId}/webhooks',
      params: { tenantId: a },
      ownerSees: true,
    },
    ...(['rotate-secret', 'test'] as const).map((action): Row => ({
      method: 'POST',
      path: `/api/v1/tenants/{tenantId}/webhooks/{id}/${action}`,
      params: { tenantId: a, id: webhookId },
    })),
    {
      method: 'DELETE',
      path: '/api/v1/tenants/{tenantId}/webhooks/{id}',
      params: { tenantId: a, id: webhookId },
    },
    // Reads arbitrary KV paths: admin only, whatever the tenant.
    {
      method: 'POST',
      path: '/api/v1/tenants/{tenantId}/imports/kv',
      params: { tenantId: a },
      body: { path: 'legacy/orders', type: 'service_token', dryRun: true },
    },
  ];
  const urlOf = (row: Row): string =>
    row.path.replace(/\{(\w+)\}/g, (_, key: string) => row.params?.[key] ?? `{${key}}`) +
    (row.query ? `?${row.query}` : '');

  it('covers every operation in the OpenAPI document', async () => {
    const doc = await api.app.inject({ method: 'GET', url: '/openapi.json' });
    const operations = Object.entries(doc.json<{ paths: Record<string, object> }>().paths)
      .filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    const covered = new Set([
      ...matrix().map((r) => `${r.method} ${r.path}`),
      ...GLOBAL,
      ...ISOLATED_ELSEWHERE,
    ]);
    const missing = operations.filter((op) => !covered.has(op));
    expect(missing, 'add a row to the isolation matrix for each new endpoint').toEqual([]);
    expect(operations.length).toBeGreaterThanOrEqual(matrix().length);
  });

  // Rows are built again at run time, when tenant A's ids exist; the names are known now.
  it.each(matrix().map((r) => `${r.method} ${r.path}`))(
    '%s answers 403 or 404 to another tenant',
    async (operation) => {
      const row = matrix().find((r) => `${r.method} ${r.path}` === operation);
      expect(row, `${operation} has a row`).toBeDefined();
      if (!row) return;
      const url = urlOf(row);
      const intruder = await api.call(api.tokens.b, row.method, url, row.body);
      expect([403, 404], `${operation} → ${intruder.statusCode} ${intruder.body}`).toContain(
        intruder.statusCode,
      );
      expect(intruder.json<{ error: { code: string } }>().error.code).toMatch(/^ROT_ERR_/);
      expect(intruder.body).not.toContain('private');
      if (row.ownerSees) {
        const owner = await api.call(api.tokens.a, row.method, url, row.body);
        expect(owner.statusCode, `${operation} as the owner: ${owner.body}`).toBeLessThan(300);
      }
    },
  );

  it('shows a tenant only its own items in every unfiltered listing', async () => {
    type Listing = { items?: { tenantId: string }[]; tenantId?: string };
    const itemTenants = (b: Listing) => (b.items ?? []).map((i) => i.tenantId);
    const listings: [string, (body: Listing) => unknown[]][] = [
      ['/api/v1/secrets', itemTenants],
      ['/api/v1/rotations', itemTenants],
      ['/api/v1/rotations/due?withinDays=3650', itemTenants],
      ['/api/v1/approvals', itemTenants],
      ['/api/v1/stats', (b) => [b.tenantId]],
    ];
    for (const [url, tenants] of listings) {
      const res = await api.call(api.tokens.b, 'GET', url);
      expect(res.statusCode, url).toBe(200);
      expect(
        tenants(res.json<Listing>()).filter((t) => t !== api.tenantB),
        url,
      ).toEqual([]);
    }
    const stats = await api.call(api.tokens.b, 'GET', '/api/v1/stats');
    expect(stats.json()).toMatchObject({ secrets: { total: 0 }, rotations: { total: 0 } });
  });

  it('leaves tenant A’s secret and settings untouched by all of it', async () => {
    const status = await waitForStatus(
      rotor.client,
      `secret/${a}/private`,
      (s) => s.state === 'ACTIVE',
    );
    expect(status).toMatchObject({ currentVersion: 1, rotationsCompleted: 1 });
    const tenant = await api.call(api.tokens.a, 'GET', `/api/v1/tenants/${a}`);
    expect(JSON.stringify(tenant.json())).not.toContain('intruder');
    const secrets = await rotor.clients.db
      .selectFrom('secrets')
      .select('name')
      .where('tenant_id', '=', a)
      .execute();
    expect(secrets.map((s) => s.name)).toEqual(['private']);
    const hooks = await api.call(api.tokens.a, 'GET', `/api/v1/tenants/${a}/webhooks`);
    expect(hooks.json<{ endpoints: { id: string; url: string }[] }>().endpoints).toEqual([
      expect.objectContaining({ id: webhookId, url: 'http://127.0.0.1:9/hooks/rotor' }),
    ]);
    expect(await rotor.clients.vault.metadata(`rotor-webhooks/${a}/${webhookId}`)).toMatchObject({
      latestVersion: 1,
    });
  });
});
