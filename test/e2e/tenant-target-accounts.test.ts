import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { waitForStatus } from '../helpers/lifecycle';
import { setUpPgTarget } from '../helpers/pg-target';
import type { PgTarget } from '../helpers/pg-target';
import { createTestRotor, testConfig } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

// A target names an account on a shared server. A tenant naming one it does not own (another
// tenant's role, an administrator's account, Rotor's own login) took it over: its secret set the
// account's password and the owner's credential stopped working. Staff choose those accounts.
describe('which accounts a tenant token may put under management', () => {
  let target: PgTarget;
  let rotor: TestRotor;
  let api: TestApi;

  beforeAll(async () => {
    target = await setUpPgTarget();
    rotor = await createTestRotor(testConfig({ ROTOR_TARGET_DATABASE_URL: target.rotatorUrl }));
    await rotor.startWorker();
    api = await createTestApi(rotor);
  });

  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
    await target?.close();
  });

  const create = (token: string, tenantId: string, name: string, target: unknown) =>
    api.call(token, 'POST', '/api/v1/secrets', {
      tenantId,
      name,
      type: 'database_password',
      policy: { requiresApproval: false, allowValueRead: true },
      target,
    });

  /** A staff token puts `role` under management as tenant A's secret `name`, at version 1. */
  const staffManaged = async (token: string, name: string, role: string): Promise<void> => {
    const a = api.tenantA;
    const made = await create(token, a, name, { kind: 'postgres_role', strategy: 'single', role });
    expect(made.statusCode, made.body).toBe(201);
    await waitForStatus(rotor.client, `secret/${a}/${name}`, (s) => s.currentVersion === 1);
  };

  const readValue = async (token: string, tenantId: string, name: string) =>
    (
      await api.call(token, 'POST', `/api/v1/secrets/${tenantId}/${name}/value`, {
        reason: 'the application logs in',
      })
    ).json<{ value: string }>().value;

  it("refuses a tenant naming another tenant's database role, so the owner's password keeps working", async () => {
    const [role = ''] = await target.createRoles('orders');
    const a = api.tenantA;
    const b = api.tenantB;
    // An operator puts tenant A's role under management for A; A reads and uses it.
    await staffManaged(api.tokens.operator, 'orders-db', role);
    const aValue = await readValue(api.tokens.a, a, 'orders-db');
    expect(await target.loginError(role, aValue)).toBeNull();

    // Tenant B names the same role as its own secret's target.
    const hijack = await create(api.tokens.b, b, 'mine', {
      kind: 'postgres_role',
      strategy: 'single',
      role,
    });
    expect(hijack.statusCode).toBe(403);
    const error = hijack.json<{ error: { code: string; issues?: { field: string }[] } }>().error;
    expect(error.code).toBe('ROT_ERR_FORBIDDEN');
    expect(error.issues?.map((i) => i.field)).toEqual(['target.kind']);
    expect(hijack.body).not.toContain(role);

    // Nothing was started or registered for B, and A's password still logs in.
    const listed = await api.call(api.tokens.b, 'GET', `/api/v1/secrets?tenantId=${b}`);
    expect(listed.json<{ items: unknown[] }>().items).toEqual([]);
    expect(await target.loginError(role, aValue)).toBeNull();
  });

  it('refuses every target kind that sets an account on a server, before looking the server up', async () => {
    const b = api.tenantB;
    for (const spec of [
      { kind: 'postgres_role', strategy: 'alternating', roles: ['x_a', 'x_b'] },
      { kind: 'redis_acl', strategy: 'single', user: 'cache', connection: 'nowhere' },
      { kind: 'mariadb_user', strategy: 'single', user: 'app', connection: 'nowhere' },
      { kind: 'aws_iam_access_key', userName: 'deploy-bot', connection: 'nowhere' },
    ]) {
      const res = await create(api.tokens.b, b, `t-${spec.kind.replace(/_/g, '-')}`, spec);
      expect(res.statusCode, spec.kind).toBe(403);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('ROT_ERR_FORBIDDEN');
    }
  });

  it('lets a tenant create its own API key, and leaves an unknown kind to validation (400)', async () => {
    const a = api.tenantA;
    const key = await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: a,
      name: 'partner-key',
      type: 'api_key',
      target: { kind: 'tenant_api_key' },
    });
    expect(key.statusCode, key.body).toBe(201);
    const unknown = await create(api.tokens.a, a, 'odd', { kind: 'carrier_pigeon' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<{ error: { code: string } }>().error.code).toBe('ROT_ERR_VALIDATION');
  });

  it('lets the owning tenant rotate a secret staff put on its role, and read the new password', async () => {
    const [role = ''] = await target.createRoles('billing');
    const a = api.tenantA;
    await staffManaged(api.tokens.admin, 'billing-db', role);
    const rotated = await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/billing-db/rotate`, {
      reason: 'tenant asks',
    });
    expect(rotated.statusCode, rotated.body).toBe(202);
    await waitForStatus(rotor.client, `secret/${a}/billing-db`, (s) => s.currentVersion === 2);
    expect(
      await target.loginError(role, await readValue(api.tokens.a, a, 'billing-db')),
    ).toBeNull();
  });
});
