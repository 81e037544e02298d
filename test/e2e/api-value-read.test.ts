import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { startApiProcess } from '../helpers/api-process';
import { createTestRotor } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

interface Audit {
  actor: string;
  outcome: string;
  details: Record<string, unknown>;
}

describe('reading a secret value over the API', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let a = '';
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    api = await createTestApi(rotor);
    a = api.tenantA;
    for (const [name, policy] of [
      ['readable', { allowValueRead: true }],
      ['sealed', {}],
    ] as const) {
      const res = await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
        tenantId: a,
        name,
        type: 'api_key',
        policy,
      });
      expect(res.statusCode, res.body).toBe(201);
      await waitForStatus(rotor.client, `secret/${a}/${name}`, (s) => s.state === 'ACTIVE');
    }
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  const read = (token: string, name: string, tenant = a) =>
    api.call(token, 'POST', `/api/v1/secrets/${tenant}/${name}/value`, { reason: 'debugging' });
  const vaultValue = async (name: string, version?: number) => {
    const res = (await rotor.vault.read(
      `${rotor.config.vault.kvMount}/data/rotor/${a}/${name}${version ? `?version=${version}` : ''}`,
    )) as { data: { data: { value: string }; metadata: { version: number } } };
    return { value: res.data.data.value, version: res.data.metadata.version };
  };
  const audits = async (name: string): Promise<Audit[]> =>
    (
      await rotor.clients.db
        .selectFrom('audit_events')
        .select(['actor', 'outcome', 'details'])
        .where('tenant_id', '=', a)
        .where('action', '=', 'secret.value_read')
        .orderBy('id')
        .execute()
    ).filter((r) => r.details.secret === name);

  it('is off by default: refused with a coded 403, and the refusal is audited', async () => {
    const res = await read(api.tokens.a, 'sealed');
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'ROT_ERR_VALUE_READ_DISABLED' } });
    expect(await audits('sealed')).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        details: expect.objectContaining({ why: 'policy', reason: 'debugging' }) as unknown,
      }),
    ]);
  });

  it('returns the current value when the policy allows it, and audits the read without it', async () => {
    const res = await read(api.tokens.a, 'readable');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const current = await vaultValue('readable');
    expect(res.json()).toEqual({ tenantId: a, name: 'readable', ...current });
    const rows = await audits('readable');
    expect(rows).toEqual([
      expect.objectContaining({
        outcome: 'success',
        details: expect.objectContaining({ version: 1, reason: 'debugging' }) as unknown,
      }),
    ]);
    const all = await rotor.clients.db.selectFrom('audit_events').selectAll().execute();
    expect(JSON.stringify(all)).not.toContain(current.value);
  });

  it('follows rotation: after one, it returns the new current version', async () => {
    const rotate = await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/readable/rotate`, {
      reason: 'new one',
    });
    expect(rotate.statusCode).toBe(202);
    await waitForStatus(rotor.client, `secret/${a}/readable`, (s) => s.currentVersion === 2);
    await expect
      .poll(async () => (await read(api.tokens.a, 'readable')).json<unknown>())
      .toEqual({
        tenantId: a,
        name: 'readable',
        ...(await vaultValue('readable', 2)),
      });
  });

  it('refuses other tenants and roles that may not read, and audits each attempt', async () => {
    const before = (await audits('readable')).length;
    const other = await read(api.tokens.b, 'readable');
    expect(other.statusCode).toBe(404);
    const security = await read(api.tokens.security, 'readable');
    expect(security.statusCode).toBe(403);
    const missing = await read(api.tokens.admin, 'no-such-secret');
    expect(missing.statusCode).toBe(404);
    const rows = await audits('readable');
    expect(rows.slice(before).map((r) => [r.outcome, r.details.why])).toEqual([
      ['refused', 'other tenant'],
      ['refused', 'role'],
    ]);
    expect((await audits('no-such-secret')).map((r) => r.outcome)).toEqual(['refused']);
    const unauthenticated = await read('rtr_nope', 'readable');
    expect(unauthenticated.statusCode).toBe(401);
    const noReason = await api.call(
      api.tokens.a,
      'POST',
      `/api/v1/secrets/${a}/readable/value`,
      {},
    );
    expect(noReason.statusCode).toBe(400);
  });

  it('never writes the value to the API process’s logs, even at trace level', async () => {
    const server = await startApiProcess({ LOG_LEVEL: 'trace' });
    try {
      const res = await fetch(`${server.url}/api/v1/secrets/${a}/readable/value`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.tokens.a}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'log check' }),
      });
      expect(res.status).toBe(200);
      const { value } = (await res.json()) as { value: string };
      expect(value.length).toBeGreaterThanOrEqual(32);
      await expect.poll(() => server.output()).toContain('request completed');
      expect(server.output()).not.toContain(value);
      expect(server.output()).not.toContain(api.tokens.a);
    } finally {
      await server.stop();
    }
  });
});
