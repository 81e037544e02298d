import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { createToken } from '../../api/auth/tokens';
import { Role } from '../../domain';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('tenant API keys issued, verified and revoked by Rotor', () => {
  let rotor: TestRotor;
  let app: FastifyInstance;
  const tenantA = uniqueName('keys-a');
  const tenantB = uniqueName('keys-b');
  const tokens: Record<string, string> = {};
  const workflowId = `secret/${tenantA}/partner-key`;
  const vaultPath = `rotor/${tenantA}/partner-key`;

  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    app = buildApp({
      checks: {},
      logLevel: 'silent',
      services: { db: rotor.clients.db, temporal: rotor.client, config: rotor.config },
    });
    const db = rotor.clients.db;
    for (const tenant of [tenantA, tenantB]) {
      await db.insertInto('tenants').values({ id: tenant, name: tenant }).execute();
    }
    tokens.a = (await createToken(db, { name: 'a', role: Role.Tenant, tenantId: tenantA })).token;
    tokens.b = (await createToken(db, { name: 'b', role: Role.Tenant, tenantId: tenantB })).token;
  });
  afterAll(async () => {
    await app?.close();
    await rotor?.close();
  });

  const call = (token: string | undefined, url: string, payload: unknown) =>
    app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}` },
      payload: payload as Record<string, unknown>,
    });
  const verify = async (token: string | undefined, key: string) =>
    (await call(token, '/api/v1/api-keys/verify', { key })).json<Record<string, unknown>>();
  const keyAt = async (version: number) =>
    String((await rotor.clients.vault.read(vaultPath, version))?.data.value);

  it('issues a prefixed key, verifies it by hash for its own tenant only, and stores no key', async () => {
    const created = await call(tokens.a, '/api/v1/secrets', {
      tenantId: tenantA,
      name: 'partner-key',
      type: 'api_key',
      target: { kind: 'tenant_api_key' },
      policy: { graceSeconds: 4, intervalSeconds: 3600 },
    });
    expect(created.statusCode).toBe(201);
    await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 1);
    const key = await keyAt(1);
    expect(key).toMatch(/^rk_[A-Za-z0-9]{32}$/);

    expect(await verify(tokens.a, key)).toEqual({
      valid: true,
      tenantId: tenantA,
      secretName: 'partner-key',
      version: 1,
      current: true,
    });
    // Another tenant learns nothing, not even that the key exists.
    expect(await verify(tokens.b, key)).toEqual({ valid: false });
    // Change the last character to one it is not: a fixed 'x' was the key itself
    // whenever the key happened to end in 'x' (1 run in 62).
    const tampered = `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`;
    expect(tampered).not.toBe(key);
    expect(await verify(tokens.a, tampered)).toEqual({ valid: false });
    expect(await verify(tokens.a, 'not-a-key')).toEqual({ valid: false });

    const rows = await rotor.clients.db
      .selectFrom('api_keys')
      .selectAll()
      .where('tenant_id', '=', tenantA)
      .execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(rows[0]?.key_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps the previous key verifying through grace, and refuses it once revoked', async () => {
    const rotated = await call(tokens.a, `/api/v1/secrets/${tenantA}/partner-key/rotate`, {
      reason: 'partner offboarding',
    });
    expect(rotated.statusCode).toBeLessThan(300);
    await waitForStatus(
      rotor.client,
      workflowId,
      (s) => s.currentVersion === 2 && s.previousVersion === 1,
    );
    const [old, fresh] = [await keyAt(1), await keyAt(2)];
    expect(await verify(tokens.a, fresh)).toMatchObject({ valid: true, version: 2, current: true });
    expect(await verify(tokens.a, old)).toMatchObject({ valid: true, version: 1, current: false });

    await waitForStatus(rotor.client, workflowId, (s) => s.previousVersion === null);
    expect(await verify(tokens.a, old)).toEqual({ valid: false });
    expect(await verify(tokens.a, fresh)).toMatchObject({ valid: true, version: 2 });
  });

  it('counts usage in memory and writes it in a batch, not once per verification', async () => {
    const fresh = await keyAt(2);
    await app.apiKeyUsage?.flush();
    const read = () =>
      rotor.clients.db
        .selectFrom('api_keys')
        .select(['use_count', 'last_used_at'])
        .where('tenant_id', '=', tenantA)
        .where('vault_version', '=', 2)
        .executeTakeFirstOrThrow();
    const before = await read();
    for (let i = 0; i < 5; i++) await verify(tokens.a, fresh);
    expect(await read()).toEqual(before);
    await app.apiKeyUsage?.flush();
    const after = await read();
    expect(Number(after.use_count)).toBe(Number(before.use_count) + 5);
    expect(after.last_used_at).not.toBeNull();
  });

  it('refuses every key of a retired secret', async () => {
    const fresh = await keyAt(2);
    const retired = await call(tokens.a, `/api/v1/secrets/${tenantA}/partner-key/retire`, {
      reason: 'done',
    });
    expect(retired.statusCode).toBeLessThan(300);
    await rotor.client.workflow.getHandle(workflowId).result();
    expect(await verify(tokens.a, fresh)).toEqual({ valid: false });
  });

  it('refuses a tenant_api_key target on a type other than api_key, naming the field', async () => {
    const res = await call(tokens.a, '/api/v1/secrets', {
      tenantId: tenantA,
      name: 'wrong-type',
      type: 'jwt_secret',
      target: { kind: 'tenant_api_key' },
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toContain('target.kind');
  });
});
