import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../api/auth/tokens';
import { Role } from '../../domain';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { createTestRotor } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('Idempotency-Key on create-secret, rotate-now, break-glass and retire', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let a = '';
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    api = await createTestApi(rotor);
    a = api.tenantA;
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  const create = (token: string, key: string, body: Record<string, unknown>) =>
    api.call(token, 'POST', '/api/v1/secrets', body, { 'idempotency-key': key });
  /** Creates tenant A's service token `name` and waits until it is ACTIVE; its workflow id. */
  const activeSecret = async (name: string): Promise<string> => {
    const created = await create(api.tokens.a, randomUUID(), {
      tenantId: a,
      name,
      type: 'service_token',
    });
    expect(created.statusCode).toBe(201);
    const workflowId = `secret/${a}/${name}`;
    await waitForStatus(rotor.client, workflowId, (s) => s.state === 'ACTIVE');
    return workflowId;
  };
  /** How many updates named `name` the workflow accepted, from its history. */
  const acceptedUpdates = async (workflowId: string, name: string): Promise<number> => {
    const history = await rotor.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).filter(
      (e) =>
        e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === name,
    ).length;
  };

  it('replays the same response for the same key and body, marked as a replay', async () => {
    const key = randomUUID();
    const body = { tenantId: a, name: 'idem-key', type: 'api_key' };
    const first = await create(api.tokens.a, key, body);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Keys compare as canonical JSON: the order of fields does not matter.
    const again = await create(api.tokens.a, key, {
      type: 'api_key',
      name: 'idem-key',
      tenantId: a,
    });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    // Keys belong to the tenant, not to one token: the tenant's other token sees the same key.
    const second = (
      await createToken(rotor.clients.db, { name: 'alice-2', role: Role.Tenant, tenantId: a })
    ).token;
    expect((await create(second, key, body)).headers['idempotent-replayed']).toBe('true');
  });

  it('refuses the same key with a different body with a coded 422', async () => {
    const key = randomUUID();
    expect(
      (await create(api.tokens.a, key, { tenantId: a, name: 'idem-one', type: 'api_key' }))
        .statusCode,
    ).toBe(201);
    const reused = await create(api.tokens.a, key, {
      tenantId: a,
      name: 'idem-two',
      type: 'api_key',
    });
    expect(reused.statusCode).toBe(422);
    expect(reused.json()).toMatchObject({ error: { code: 'ROT_ERR_IDEMPOTENCY_KEY_REUSED' } });
    await waitForStatus(rotor.client, `secret/${a}/idem-one`, (s) => s.state === 'ACTIVE');
    const rotate = await api.call(
      api.tokens.a,
      'POST',
      `/api/v1/secrets/${a}/idem-one/rotate`,
      { reason: 'x' },
      { 'idempotency-key': key },
    );
    expect(rotate.statusCode, 'the same key on another endpoint').toBe(422);
  });

  it('keeps each tenant’s and each staff token’s keys apart', async () => {
    const key = randomUUID();
    const mine = await create(api.tokens.a, key, { tenantId: a, name: 'idem-a', type: 'api_key' });
    const theirs = await create(api.tokens.b, key, {
      tenantId: api.tenantB,
      name: 'idem-b',
      type: 'api_key',
    });
    const ops = await create(api.tokens.operator, key, {
      tenantId: api.tenantB,
      name: 'idem-ops',
      type: 'api_key',
    });
    for (const res of [mine, theirs, ops]) {
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
    }
  });

  it('sends rotate-now once for a retried request', async () => {
    const workflowId = await activeSecret('idem-rotate');
    const key = randomUUID();
    const rotate = () =>
      api.call(
        api.tokens.a,
        'POST',
        `/api/v1/secrets/${a}/idem-rotate/rotate`,
        { reason: 'retry me' },
        { 'idempotency-key': key },
      );
    const responses = [await rotate(), await rotate(), await rotate()];
    expect(responses.map((r) => r.statusCode)).toEqual([202, 202, 202]);
    expect(responses.map((r) => r.headers['idempotent-replayed'])).toEqual([
      undefined,
      'true',
      'true',
    ]);
    await waitForStatus(rotor.client, workflowId, (s) => s.rotationsCompleted === 2);
    // Rotate-now is a Temporal Update: the workflow accepted exactly one.
    expect(await acceptedUpdates(workflowId, 'requestRotation')).toBe(1);
  });

  it('sends break-glass once for a retried request: one emergency rotation, one audit row', async () => {
    const name = 'idem-break-glass';
    const workflowId = await activeSecret(name);
    const key = randomUUID();
    const breakGlass = () =>
      api.call(
        api.tokens.admin,
        'POST',
        `/api/v1/secrets/${a}/${name}/break-glass`,
        { reason: 'leaked in a log' },
        { 'idempotency-key': key },
      );
    const responses = [await breakGlass(), await breakGlass(), await breakGlass()];
    expect(responses.map((r) => r.statusCode)).toEqual([202, 202, 202]);
    expect(responses.map((r) => r.headers['idempotent-replayed'])).toEqual([
      undefined,
      'true',
      'true',
    ]);
    expect(responses.map((r) => r.json<unknown>())).toEqual(Array(3).fill({ accepted: true }));
    await waitForStatus(rotor.client, workflowId, (s) => s.rotationsCompleted === 2);
    expect(await acceptedUpdates(workflowId, 'breakGlassRotate')).toBe(1);
    const audited = await rotor.clients.db
      .selectFrom('audit_events')
      .select('action')
      .where('audit_events.tenant_id', '=', a)
      .where('action', '=', 'rotation.break_glass')
      .innerJoin('secrets', 'secrets.id', 'audit_events.secret_id')
      .where('secrets.workflow_id', '=', workflowId)
      .execute();
    expect(audited).toHaveLength(1);
    // The same key on the same secret's other emergency control is another request: refused.
    const retireWithKey = await api.call(
      api.tokens.admin,
      'POST',
      `/api/v1/secrets/${a}/${name}/retire`,
      { reason: 'leaked in a log' },
      { 'idempotency-key': key },
    );
    expect(retireWithKey.statusCode).toBe(422);
    expect(retireWithKey.json()).toMatchObject({
      error: { code: 'ROT_ERR_IDEMPOTENCY_KEY_REUSED' },
    });
  });

  it('sends retire once for a retried request, and replays its answer after the lifecycle ended', async () => {
    const name = 'idem-retire';
    const workflowId = await activeSecret(name);
    const key = randomUUID();
    const retire = () =>
      api.call(
        api.tokens.a,
        'POST',
        `/api/v1/secrets/${a}/${name}/retire`,
        { reason: 'decommissioned' },
        { 'idempotency-key': key },
      );
    const first = await retire();
    const second = await retire();
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    expect(second.headers['idempotent-replayed']).toBe('true');
    const handle = rotor.client.workflow.getHandle(workflowId);
    await handle.result();
    // Ended: a fresh retire would be refused (409 not running); the retried one is answered.
    const late = await retire();
    expect(late.statusCode, late.body).toBe(202);
    expect(late.headers['idempotent-replayed']).toBe('true');
    const fresh = await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/${name}/retire`, {
      reason: 'decommissioned',
    });
    expect(fresh.statusCode).toBe(409);
    const signals = (await handle.fetchHistory()).events?.filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'retire',
    );
    expect(signals).toHaveLength(1);
  });

  it('frees a key after a refused request, and after it expires', async () => {
    const key = randomUUID();
    const bad = await create(api.tokens.a, key, { tenantId: a, name: 'Bad Name', type: 'api_key' });
    expect(bad.statusCode).toBe(400);
    // An initial value too weak for its type is refused, and nothing about it is kept.
    const withValue = await create(api.tokens.a, key, {
      tenantId: a,
      name: 'idem-value',
      type: 'api_key',
      initialValue: 'hunter2',
    });
    expect(withValue.statusCode).toBe(400);
    expect(withValue.body).not.toContain('hunter2');
    const stored = await rotor.clients.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('key', '=', key)
      .execute();
    expect(stored).toEqual([]);
    const ok = await create(api.tokens.a, key, { tenantId: a, name: 'idem-late', type: 'api_key' });
    expect(ok.statusCode).toBe(201);
    const rows = await rotor.clients.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('key', '=', key)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.expires_at.getTime()).toBeGreaterThan(Date.now());

    await rotor.clients.db
      .updateTable('idempotency_keys')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('key', '=', key)
      .execute();
    const reused = await create(api.tokens.a, key, {
      tenantId: a,
      name: 'idem-after-expiry',
      type: 'api_key',
    });
    expect(reused.statusCode, reused.body).toBe(201);
    expect(reused.headers['idempotent-replayed']).toBeUndefined();
  });

  it('refuses a malformed key with a coded 400', async () => {
    for (const key of ['x'.repeat(256), 'has space', 'ünïcode']) {
      const res = await create(api.tokens.a, key, {
        tenantId: a,
        name: 'idem-bad',
        type: 'api_key',
      });
      expect(res.statusCode, key).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'ROT_ERR_VALIDATION' } });
    }
  });
});
