import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { createTestRotor } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const DAY = 86_400;

interface Due {
  items: { tenantId: string; name: string; nextRotationAt: string; overdue: boolean }[];
}
interface RotationView {
  id: string;
  tenantId: string;
  secretName: string;
  status: string;
  requestedBy: string;
  toVersion: number | null;
}

describe('rotations, stats, types, tenants and policy over the API', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let a = '';
  let b = '';
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    api = await createTestApi(rotor);
    a = api.tenantA;
    b = api.tenantB;
    const create = async (token: string, tenantId: string, name: string, days: number) => {
      const res = await api.call(token, 'POST', '/api/v1/secrets', {
        tenantId,
        name,
        type: 'api_key',
        policy: { intervalSeconds: days * DAY },
      });
      expect(res.statusCode, res.body).toBe(201);
    };
    await create(api.tokens.a, a, 'soon', 2);
    await create(api.tokens.a, a, 'later', 30);
    await create(api.tokens.b, b, 'b-key', 1);
    for (const [tenant, name] of [
      [a, 'soon'],
      [a, 'later'],
      [b, 'b-key'],
    ] as const) {
      await waitForStatus(rotor.client, `secret/${tenant}/${name}`, (s) => s.state === 'ACTIVE');
    }
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  const dueNames = async (token: string, query: string) => {
    const res = await api.call(token, 'GET', `/api/v1/rotations/due?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Due>().items.map((i) => `${i.tenantId}/${i.name}`);
  };

  it('lists the secrets due within N days, soonest first, only in the caller’s tenant', async () => {
    await expect.poll(() => dueNames(api.tokens.a, 'withinDays=3')).toEqual([`${a}/soon`]);
    expect(await dueNames(api.tokens.a, 'withinDays=40')).toEqual([`${a}/soon`, `${a}/later`]);
    expect(await dueNames(api.tokens.admin, `withinDays=40&tenantId=${a}`)).toEqual([
      `${a}/soon`,
      `${a}/later`,
    ]);
    const everyone = await dueNames(api.tokens.operator, 'withinDays=40&limit=200');
    expect(everyone).toEqual(expect.arrayContaining([`${a}/soon`, `${b}/b-key`]));
    const res = await api.call(api.tokens.a, 'GET', '/api/v1/rotations/due?withinDays=3');
    const [soon] = res.json<Due>().items;
    expect(soon?.overdue).toBe(false);
    expect(Date.parse(soon?.nextRotationAt ?? '') - Date.now()).toBeGreaterThan(DAY * 1000);
  });

  it('refuses a missing or out-of-range day count with a coded 400', async () => {
    for (const query of ['', 'withinDays=-1', 'withinDays=99999', 'withinDays=soon']) {
      const res = await api.call(api.tokens.a, 'GET', `/api/v1/rotations/due?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'ROT_ERR_VALIDATION' } });
    }
  });

  it('lists rotations by tenant, secret and status, and shows one with its decisions', async () => {
    const rotate = await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/soon/rotate`, {
      reason: 'routine',
    });
    expect(rotate.statusCode).toBe(202);
    await waitForStatus(rotor.client, `secret/${a}/soon`, (s) => s.currentVersion === 2);
    const list = async (query: string) => {
      const res = await api.call(api.tokens.a, 'GET', `/api/v1/rotations?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ items: RotationView[]; total: number }>();
    };
    await expect
      .poll(async () => (await list('secret=soon&status=COMPLETED')).total)
      .toBeGreaterThanOrEqual(2);
    const soon = await list('secret=soon');
    expect(soon.items.map((r) => r.secretName)).toEqual(['soon', 'soon']);
    // Newest first: the on-demand rotation, then the initial one.
    expect(soon.items[0]).toMatchObject({
      requestedBy: expect.stringMatching(/^alice/) as unknown,
    });
    const mine = await list('limit=1');
    expect(mine.items).toHaveLength(1);
    expect(mine.total).toBe(3);
    expect((await list('status=REJECTED')).items).toEqual([]);

    const one = await api.call(api.tokens.a, 'GET', `/api/v1/rotations/${soon.items[0]?.id}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: soon.items[0]?.id, tenantId: a, decisions: [] });
    const bad = await api.call(api.tokens.a, 'GET', '/api/v1/rotations?status=DONE&limit=500');
    expect(bad.statusCode).toBe(400);
    expect((await api.call(api.tokens.a, 'GET', '/api/v1/rotations/not-a-uuid')).statusCode).toBe(
      400,
    );
  });

  it('counts secrets by state and type and rotations by outcome, for the caller’s scope', async () => {
    const stats = async (token: string, query = '') => {
      const res = await api.call(token, 'GET', `/api/v1/stats${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{
        tenantId: string | null;
        secrets: { total: number; byType: Record<string, number> };
        rotations: { total: number; byStatus: Record<string, number> };
        overdue: number;
      }>();
    };
    const own = await stats(api.tokens.a);
    expect(own).toMatchObject({
      tenantId: a,
      secrets: { total: 2, byType: { api_key: 2 } },
      overdue: 0,
    });
    expect(own.rotations.byStatus.COMPLETED).toBeGreaterThanOrEqual(2);
    expect(await stats(api.tokens.admin, `?tenantId=${a}`)).toEqual(own);
    const all = await stats(api.tokens.security);
    expect(all.tenantId).toBeNull();
    expect(all.secrets.total).toBeGreaterThanOrEqual(3);
    expect((await api.call(api.tokens.b, 'GET', `/api/v1/stats?tenantId=${a}`)).statusCode).toBe(
      404,
    );
  });

  it('describes every secret type with its default policy', async () => {
    const res = await api.call(api.tokens.b, 'GET', '/api/v1/types');
    expect(res.statusCode).toBe(200);
    const items = res.json<{
      items: { type: string; generated: boolean; defaultPolicy: unknown }[];
    }>().items;
    expect(items.map((i) => i.type)).toContain('database_password');
    expect(items).toHaveLength(8);
    const db = items.find((i) => i.type === 'database_password');
    expect(db).toMatchObject({
      generated: true,
      defaultPolicy: {
        schedule: { kind: 'interval', everySeconds: 60 * DAY },
        requiresApproval: true,
        graceSeconds: DAY,
        allowValueRead: false,
        approval: { quorum: 1 },
      },
    });
    expect(items.find((i) => i.type === 'tls_certificate')?.generated).toBe(false);
  });

  it('lists tenants with their notification settings for admins, and a tenant its own', async () => {
    const put = await api.call(api.tokens.a, 'PUT', `/api/v1/tenants/${a}/notification-settings`, {
      emails: ['ops@a.example'],
      slackChannel: '#a-alerts',
    });
    expect(put.statusCode).toBe(200);
    const list = await api.call(api.tokens.admin, 'GET', '/api/v1/tenants?limit=200');
    expect(list.statusCode).toBe(200);
    const listed = list.json<{ items: { id: string }[] }>().items.find((t) => t.id === a);
    expect(listed).toMatchObject({
      notificationSettings: { emails: ['ops@a.example'], slackChannel: '#a-alerts' },
      secrets: 2,
    });
    const own = await api.call(api.tokens.a, 'GET', `/api/v1/tenants/${a}`);
    expect(own.json()).toEqual(listed);
    expect((await api.call(api.tokens.a, 'GET', '/api/v1/tenants')).statusCode).toBe(403);
    expect((await api.call(api.tokens.b, 'GET', `/api/v1/tenants/${a}`)).statusCode).toBe(404);
    expect(
      (await api.call(api.tokens.admin, 'GET', '/api/v1/tenants/nobody-here')).statusCode,
    ).toBe(404);
  });

  it('replaces a secret’s policy, reschedules it, and names each bad field', async () => {
    const bad = await api.call(api.tokens.a, 'PUT', `/api/v1/secrets/${a}/later/policy`, {
      intervalSeconds: 0,
      colour: 'red',
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json<{ error: { issues: { field: string }[] } }>()
        .error.issues.map((i) => i.field)
        .sort(),
    ).toEqual(['policy.colour', 'policy.intervalSeconds']);
    const before = await api.call(api.tokens.a, 'GET', `/api/v1/secrets/${a}/later`);
    const ok = await api.call(api.tokens.a, 'PUT', `/api/v1/secrets/${a}/later/policy`, {
      intervalSeconds: 5 * DAY,
      allowValueRead: true,
    });
    expect(ok.statusCode, ok.body).toBe(202);
    expect(ok.json()).toMatchObject({ policy: { allowValueRead: true } });
    await expect
      .poll(async () => {
        const got = await api.call(api.tokens.a, 'GET', `/api/v1/secrets/${a}/later`);
        return got.json<{ policy: { allowValueRead?: boolean } }>().policy.allowValueRead;
      })
      .toBe(true);
    const after = await api.call(api.tokens.a, 'GET', `/api/v1/secrets/${a}/later`);
    expect(Date.parse(after.json<{ nextRotationAt: string }>().nextRotationAt)).toBeLessThan(
      Date.parse(before.json<{ nextRotationAt: string }>().nextRotationAt),
    );
    expect(
      (await api.call(api.tokens.b, 'PUT', `/api/v1/secrets/${a}/later/policy`, {})).statusCode,
    ).toBe(404);
  });
});
