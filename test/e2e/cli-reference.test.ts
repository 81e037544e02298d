import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { runCli } from '../helpers/cli';
import type { CliRun } from '../helpers/cli';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestRotor } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const DAY = 86_400;

describe('rotor rotations, stats, types, tenants and secrets value, run against a live API', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let url = '';
  let t = '';
  const cli = (token: string, ...args: string[]): Promise<CliRun> => runCli(url, token, ...args);
  const ok = async (token: string, ...args: string[]): Promise<string> => {
    const run = await cli(token, ...args);
    expect(run.code, `rotor ${args.join(' ')}: ${run.stderr}`).toBe(0);
    return run.stdout;
  };
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    api = await createTestApi(rotor);
    url = await api.app.listen({ host: '127.0.0.1', port: 0 });
    t = api.tenantA;
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  it('creates secrets once per idempotency key, and refuses the key for another request', async () => {
    const key = randomUUID();
    const create = (name: string, days: number, ...extra: string[]) =>
      cli(
        api.tokens.a,
        'secrets',
        'create',
        t,
        name,
        '--type',
        'api_key',
        '--interval',
        String(days * DAY),
        ...extra,
      );
    const first = await create('soon', 2, '--allow-value-read', '--idempotency-key', key);
    expect(first.code, first.stderr).toBe(0);
    const again = await create('soon', 2, '--allow-value-read', '--idempotency-key', key);
    expect(again).toEqual(first);
    const reused = await create('other', 2, '--idempotency-key', key);
    expect(reused.code).toBe(1);
    expect(reused.stderr).toContain('✗ ROT_ERR_IDEMPOTENCY_KEY_REUSED');
    expect((await create('later', 30)).code).toBe(0);
    for (const name of ['soon', 'later']) {
      await waitForStatus(rotor.client, `secret/${t}/${name}`, (s) => s.state === 'ACTIVE');
    }
  });

  it('lists rotations due within N days as a table or JSON', async () => {
    await expect
      .poll(async () => (await cli(api.tokens.a, 'rotations', 'due', '--days', '3')).stdout)
      .toMatch(new RegExp(`^${t}\\s+soon\\s+api_key\\s+ACTIVE\\s+\\S+Z\\s+false$`, 'm'));
    const table = await ok(api.tokens.a, 'rotations', 'due', '--days', '3');
    expect(table.split('\n')[0]).toMatch(
      /^TENANTID\s+NAME\s+TYPE\s+STATE\s+NEXTROTATIONAT\s+OVERDUE$/,
    );
    expect(table).not.toContain('later');
    const json = JSON.parse(
      await ok(api.tokens.a, '--json', 'rotations', 'due', '--days', '40'),
    ) as { name: string }[];
    expect(json.map((r) => r.name)).toEqual(['soon', 'later']);
    const bad = await cli(api.tokens.a, 'rotations', 'due', '--days', 'soon');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('must be a whole number');
  });

  it('prints stats for the caller’s scope as a table or JSON', async () => {
    // The rotation rows reach COMPLETED just after the lifecycle reports ACTIVE.
    await expect
      .poll(async () => (await ok(api.tokens.a, 'stats')).split('\n')[0])
      .toBe(`tenant ${t}: 2 secrets, 0 overdue, 2 rotations`);
    const table = await ok(api.tokens.a, 'stats');
    expect(table).toMatch(/^secrets\s+type\s+api_key\s+2$/m);
    expect(table).toMatch(/^rotations\s+status\s+COMPLETED\s+2$/m);
    const json = JSON.parse(await ok(api.tokens.admin, '--json', 'stats', '--tenant', t)) as {
      secrets: { total: number };
    };
    expect(json).toMatchObject({ tenantId: t, secrets: { total: 2, byState: { ACTIVE: 2 } } });
  });

  it('lists and shows rotations', async () => {
    const json = JSON.parse(
      await ok(api.tokens.a, '--json', 'rotations', 'list', '--secret', 'soon'),
    ) as { id: string; status: string }[];
    expect(json.map((r) => r.status)).toEqual(['COMPLETED']);
    const id = json[0]?.id ?? '';
    const table = await ok(api.tokens.a, 'rotations', 'list', '--status', 'COMPLETED');
    expect(table).toMatch(new RegExp(`^${id}\\s+${t}\\s+soon\\s+COMPLETED\\s+-\\s+1\\s`, 'm'));
    const shown = await ok(api.tokens.a, 'rotations', 'show', id);
    expect(shown).toMatch(new RegExp(`^id\\s+${id}$`, 'm'));
    expect(shown).toMatch(/^decisions\s+\[\]$/m);
  });

  it('describes the secret types and lists tenants for an admin', async () => {
    const types = await ok(api.tokens.a, 'types');
    expect(types).toMatch(/^database_password\s+yes\s+60d\s+yes\s+1d$/m);
    expect(types).toMatch(/^tls_certificate\s+owner supplies\s+365d\s+no\s+7d$/m);
    expect(
      (
        await api.call(api.tokens.a, 'PUT', `/api/v1/tenants/${t}/notification-settings`, {
          emails: ['ops@t.example'],
        })
      ).statusCode,
    ).toBe(200);
    const tenants = await ok(api.tokens.admin, 'tenants', 'list');
    expect(tenants).toMatch(new RegExp(`^${t}\\s+2\\s+ops@t\\.example\\s+-$`, 'm'));
    const refused = await cli(api.tokens.a, 'tenants', 'list');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ROT_ERR_FORBIDDEN');
  });

  it('prints a secret value only where the policy allows it', async () => {
    const value = (
      await ok(api.tokens.a, 'secrets', 'value', t, 'soon', '--reason', 'cli test')
    ).trim();
    const stored = (await rotor.vault.read(
      `${rotor.config.vault.kvMount}/data/rotor/${t}/soon`,
    )) as { data: { data: { value: string } } };
    expect(value).toBe(stored.data.data.value);
    const sealed = await cli(api.tokens.a, 'secrets', 'value', t, 'later', '--reason', 'cli test');
    expect(sealed.code).toBe(1);
    expect(sealed.stderr).toContain('ROT_ERR_VALUE_READ_DISABLED');
    expect(sealed.stdout).toBe('');
  });
});
