import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { createTestRotor } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

type Body = { error: { code: string; issues?: { field: string }[] } };

describe('API limits and client mistakes: always a coded 4xx', () => {
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

  const expectCoded = (
    res: { statusCode: number; json: <T>() => T; body: string },
    status: number,
  ) => {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json<Body>().error.code).toMatch(/^ROT_ERR_[A-Z_]+$/);
    return res.json<Body>().error;
  };

  it('refuses a body over 64 KiB with 413, on every endpoint that takes one', async () => {
    const padding = 'x'.repeat(65 * 1024);
    for (const [method, url] of [
      ['POST', '/api/v1/secrets'],
      ['POST', `/api/v1/secrets/${a}/x/rotate`],
      ['PUT', `/api/v1/secrets/${a}/x/policy`],
      ['POST', `/api/v1/secrets/${a}/x/value`],
      ['POST', '/api/v1/rotations/bulk'],
      ['POST', '/api/v1/tokens'],
    ] as const) {
      expectCoded(await api.call(api.tokens.admin, method, url, { reason: padding }), 413);
    }
  });

  it('refuses names longer than 63 characters, in a body and in a path', async () => {
    const long = 'n'.repeat(64);
    const created = expectCoded(
      await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
        tenantId: a,
        name: long,
        type: 'api_key',
      }),
      400,
    );
    expect(created.issues?.map((i) => i.field)).toEqual(['name']);
    expectCoded(await api.call(api.tokens.a, 'GET', `/api/v1/secrets/${a}/${long}`), 400);
    expectCoded(await api.call(api.tokens.admin, 'GET', `/api/v1/tenants/${long}`), 400);
    // Past the router's own parameter limit (100), it answers before any route runs.
    const huge = expectCoded(
      await api.call(api.tokens.a, 'GET', `/api/v1/secrets/${a}/${'n'.repeat(101)}`),
      414,
    );
    expect(huge.code).toBe('ROT_ERR_MAX_PARAM_LENGTH');
  });

  it('caps every listing’s page size at 200 and refuses unknown parameters', async () => {
    for (const path of [
      '/api/v1/secrets',
      '/api/v1/rotations',
      '/api/v1/rotations/due?withinDays=1',
      '/api/v1/tenants',
      '/api/v1/approvals',
      '/api/v1/notifications/failures',
    ]) {
      const sep = path.includes('?') ? '&' : '?';
      for (const query of ['limit=201', 'limit=0', 'limit=-1', 'limit=ten', 'colour=red']) {
        const error = expectCoded(
          await api.call(api.tokens.admin, 'GET', `${path}${sep}${query}`),
          400,
        );
        expect(error.code, `${path} ${query}`).toBe('ROT_ERR_VALIDATION');
      }
      const ok = await api.call(api.tokens.admin, 'GET', `${path}${sep}limit=200`);
      expect(ok.statusCode, `${path} limit=200`).toBe(200);
    }
  });

  it('caps lists and free text in bodies', async () => {
    const settings = `/api/v1/tenants/${a}/notification-settings`;
    const many = Array.from({ length: 21 }, (_, i) => `p${i}@a.example`);
    expectCoded(await api.call(api.tokens.a, 'PUT', settings, { emails: many }), 400);
    const longEmail = `${'x'.repeat(250)}@a.example`;
    expectCoded(await api.call(api.tokens.a, 'PUT', settings, { emails: [longEmail] }), 400);
    expectCoded(
      await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/x/rotate`, {
        reason: 'r'.repeat(501),
      }),
      400,
    );
    expectCoded(
      await api.call(api.tokens.admin, 'POST', '/api/v1/tokens', {
        name: 't'.repeat(101),
        role: 'operator',
      }),
      400,
    );
  });

  it('answers malformed JSON, a wrong content type and an empty body with a coded 4xx', async () => {
    const raw = (payload: string, contentType: string) =>
      api.app.inject({
        method: 'POST',
        url: '/api/v1/secrets',
        payload,
        headers: { authorization: `Bearer ${api.tokens.a}`, 'content-type': contentType },
      });
    expectCoded(await raw('{"tenantId":', 'application/json'), 400);
    expectCoded(await raw('tenantId=x', 'application/x-www-form-urlencoded'), 415);
    expectCoded(await raw('', 'application/json'), 400);
    expectCoded(await raw('[]', 'application/json'), 400);
  });

  it('refuses policy durations too long to become a date, at create and on PUT …/policy', async () => {
    // Accepted, 1e13 seconds left the lifecycle failing on every attempt: the grace end or the
    // approval expiry is past the last date JavaScript can hold (RangeError: Invalid time value).
    const huge = 1e13;
    const created = expectCoded(
      await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
        tenantId: a,
        name: 'forever',
        type: 'jwt_secret',
        policy: { graceSeconds: huge, intervalSeconds: huge },
      }),
      400,
    );
    expect(created.issues?.map((i) => i.field).sort()).toEqual([
      'policy.graceSeconds',
      'policy.intervalSeconds',
    ]);
    expect(JSON.stringify(created)).not.toContain(String(huge));
    expect(
      await rotor.clients.db
        .selectFrom('secrets')
        .select('id')
        .where('tenant_id', '=', a)
        .where('name', '=', 'forever')
        .executeTakeFirst(),
    ).toBeUndefined();

    const ok = await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: a,
      name: 'bounded',
      type: 'database_password',
    });
    expect(ok.statusCode, ok.body).toBe(201);
    await waitForStatus(rotor.client, `secret/${a}/bounded`, (s) => s.state === 'ACTIVE');
    const policy = expectCoded(
      await api.call(api.tokens.a, 'PUT', `/api/v1/secrets/${a}/bounded/policy`, {
        approval: { expireAfterSeconds: huge },
      }),
      400,
    );
    expect(policy.issues?.map((i) => i.field)).toEqual(['policy.approval.expireAfterSeconds']);
    const got = await api.call(api.tokens.a, 'GET', `/api/v1/secrets/${a}/bounded`);
    expect(got.json<{ policy: { approval?: unknown } }>().policy.approval).toBeUndefined();
  });

  it('answers 409, not 500, to messages for a secret whose lifecycle has ended', async () => {
    const created = await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: a,
      name: 'gone',
      type: 'api_key',
    });
    expect(created.statusCode).toBe(201);
    await waitForStatus(rotor.client, `secret/${a}/gone`, (s) => s.state === 'ACTIVE');
    const retire = await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/gone/retire`, {
      reason: 'done',
    });
    expect(retire.statusCode).toBe(202);
    await rotor.client.workflow.getHandle(`secret/${a}/gone`).result();
    const rotate = await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/gone/rotate`, {
      reason: 'again',
    });
    expect(expectCoded(rotate, 409).code).toBe('ROT_ERR_NOT_RUNNING');
    expectCoded(
      await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/gone/retire`, { reason: 'x' }),
      409,
    );
    expectCoded(
      await api.call(api.tokens.admin, 'POST', `/api/v1/secrets/${a}/gone/break-glass`, {
        reason: 'x',
      }),
      409,
    );
    expectCoded(
      await api.call(api.tokens.security, 'POST', `/api/v1/secrets/${a}/gone/approve`, {
        rotationId: 'r',
      }),
      409,
    );
    expectCoded(await api.call(api.tokens.a, 'PUT', `/api/v1/secrets/${a}/gone/policy`, {}), 409);
    const got = await api.call(api.tokens.a, 'GET', `/api/v1/secrets/${a}/gone`);
    expect(got.json()).toMatchObject({ state: 'RETIRED' });
  });

  it('answers a decision about a missing secret with 404', async () => {
    for (const [action, body] of [
      ['approve', { rotationId: 'r' }],
      ['reject', { rotationId: 'r', reason: 'x' }],
    ] as const) {
      expectCoded(
        await api.call(
          api.tokens.security,
          'POST',
          `/api/v1/secrets/${a}/never-was/${action}`,
          body,
        ),
        404,
      );
    }
  });

  // Last in this file: it stops the file's worker.
  it('still lists approvals when a waiting workflow cannot answer, naming it', async () => {
    const created = await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: a,
      name: 'orphan-db',
      type: 'database_password',
    });
    expect(created.statusCode).toBe(201);
    const workflowId = `secret/${a}/orphan-db`;
    await waitForStatus(rotor.client, workflowId, (s) => s.state === 'ACTIVE');
    await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/orphan-db/rotate`, { reason: 'x' });
    await waitForStatus(rotor.client, workflowId, (s) => s.state === 'AWAITING_APPROVAL');
    const listed = async () =>
      (await api.call(api.tokens.security, 'GET', `/api/v1/approvals?tenantId=${a}`)).json<{
        items: { workflowId: string }[];
        unreachable: string[];
      }>();
    await expect
      .poll(async () => (await listed()).items.map((i) => i.workflowId))
      .toEqual([workflowId]);
    await rotor.stopWorkers();
    const res = await api.call(api.tokens.security, 'GET', `/api/v1/approvals?tenantId=${a}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ items: [], unreachable: [workflowId] });
    // The secret itself still answers, from the engine database, instead of hanging.
    const got = await api.call(api.tokens.a, 'GET', `/api/v1/secrets/${a}/orphan-db`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({
      name: 'orphan-db',
      currentVersion: 1,
      pendingApproval: null,
    });
  });
});
