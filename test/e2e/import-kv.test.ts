import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { waitForStatus } from '../helpers/lifecycle';
import { leakForms, searchableText } from '../helpers/recording-vault';
import { engineTablesAsText } from '../helpers/table-text';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

interface KvVersion {
  data: { data: Record<string, string>; metadata: { version: number } };
}

interface ImportAnswer {
  secrets: { key: string; name: string | null; outcome: string; reason?: string }[];
}

describe('rotor import --from-kv: existing secrets from another KV v2 path', () => {
  let rotor: TestRotor;
  /** An API allowed to import from this file's own legacy prefix. */
  let api: TestApi;
  /** The same API with ROTOR_IMPORT_KV_PREFIXES unset. */
  let closed: TestApi;
  let apiUrl = '';
  let a = '';
  let prefix = '';
  /** Every value this file puts at a legacy path: none may appear anywhere but Vault. */
  const values = {
    ORDERS_DB_PASSWORD: 'legacy-orders-db-password-4f1c9a7e',
    STRIPE_API_KEY: 'legacy-stripe-api-key-83b20d6c51e4',
  };
  const workflowIds: string[] = [];

  const mount = () => rotor.config.vault.kvMount;
  const writeLegacy = (path: string, data: Record<string, unknown>) =>
    rotor.vault.write(`${mount()}/data/${path}`, { data });
  const current = async (name: string) =>
    ((await rotor.vault.read(`${mount()}/data/rotor/${a}/${name}`)) as KvVersion).data;
  const importKv = (token: string, body: Record<string, unknown>, tenant = a) =>
    api.call(token, 'POST', `/api/v1/tenants/${tenant}/imports/kv`, body);
  /** `rotor import --from-kv <prefix>/orders --tenant a --type service_token` with `extra`, as admin. */
  const importOrders = (...extra: string[]) =>
    runCli(
      apiUrl,
      api.tokens.admin,
      'import',
      '--from-kv',
      `${prefix}/orders`,
      '--tenant',
      a,
      '--type',
      'service_token',
      ...extra,
    );
  const assertNoValue = (text: string, where: string) => {
    for (const value of Object.values(values))
      for (const form of leakForms(value))
        expect(text.includes(form), `${where} contains a legacy value`).toBe(false);
  };
  const managedNames = async (names: string[]) =>
    (
      await rotor.clients.db
        .selectFrom('secrets')
        .select('name')
        .where('tenant_id', '=', a)
        .where('name', 'in', names)
        .execute()
    ).map((r) => r.name);

  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    prefix = `legacy-${uniqueName('kv')}`;
    api = await createTestApi(rotor, { importKvPrefixes: [prefix] });
    closed = await createTestApi(rotor);
    apiUrl = await api.app.listen({ host: '127.0.0.1', port: 0 });
    a = api.tenantA;
    await writeLegacy(`${prefix}/orders`, values);
    await writeLegacy(`${prefix}/mixed`, {
      GOOD_TOKEN: 'legacy-mixed-good-token-0123456789',
      WEAK_TOKEN: 'short',
    });
    await writeLegacy(`${prefix}x/outside`, { SOME_KEY: 'outside-value-0123456789abcdef' });
  });
  afterAll(async () => {
    await closed?.app.close();
    await api?.app.close();
    await rotor?.close();
  });

  it('is refused with 403 ROT_ERR_IMPORT_KV_DISABLED, saying how to enable it, while no prefix is configured', async () => {
    const res = await closed.call(
      closed.tokens.admin,
      'POST',
      `/api/v1/tenants/${closed.tenantA}/imports/kv`,
      { path: `${prefix}/orders`, type: 'service_token' },
    );
    expect(res.statusCode, res.body).toBe(403);
    const error = res.json<{ error: { code: string; message: string } }>().error;
    expect(error.code).toBe('ROT_ERR_IMPORT_KV_DISABLED');
    expect(error.message).toContain('ROTOR_IMPORT_KV_PREFIXES');
  });

  it('refuses a tenant token with 403, reading nothing', async () => {
    const res = await importKv(api.tokens.a, { path: `${prefix}/orders`, type: 'service_token' });
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'ROT_ERR_FORBIDDEN' } });
    assertNoValue(res.body, 'the refusal');
  });

  it('refuses a path outside the allowed prefixes, a sibling sharing its first letters included', async () => {
    for (const path of [`${prefix}x/outside`, 'rotor/anything', 'elsewhere/orders']) {
      const res = await importKv(api.tokens.admin, { path, type: 'service_token' });
      expect(res.statusCode, `${path}: ${res.body}`).toBe(403);
      const error = res.json<{ error: { code: string; issues: { field: string }[] } }>().error;
      expect(error.code).toBe('ROT_ERR_IMPORT_KV_PATH_NOT_ALLOWED');
      expect(error.issues.map((i) => i.field)).toEqual(['path']);
      expect(res.body).not.toContain('outside-value');
    }
  });

  it('refuses a path that climbs out of its prefix with a 400 naming the path field', async () => {
    const res = await importKv(api.tokens.admin, {
      path: `${prefix}/../rotor/${a}`,
      type: 'service_token',
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({
      error: { code: 'ROT_ERR_VALIDATION', issues: [{ field: 'path' }] },
    });
  });

  it('answers a path that holds no secret with 404 ROT_ERR_IMPORT_KV_NOT_FOUND', async () => {
    const res = await importKv(api.tokens.admin, {
      path: `${prefix}/no-such-secret`,
      type: 'service_token',
    });
    expect(res.statusCode, res.body).toBe(404);
    expect(res.json()).toMatchObject({
      error: { code: 'ROT_ERR_IMPORT_KV_NOT_FOUND', issues: [{ field: 'path' }] },
    });
  });

  it('prints the would-be names on a dry run, creates nothing and prints no value', async () => {
    const run = await importOrders('--dry-run');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`key ORDERS_DB_PASSWORD: ${a}/orders-db-password would create`);
    expect(run.stdout).toContain(`key STRIPE_API_KEY: ${a}/stripe-api-key would create`);
    expect(run.stdout).toContain('2 would be created, 0 already managed, 0 failed');
    assertNoValue(run.stdout + run.stderr, 'the dry run’s output');
    expect(await managedNames(['orders-db-password', 'stripe-api-key'])).toEqual([]);
    const metadata: unknown = await rotor.vault
      .read(`${mount()}/metadata/rotor/${a}/orders-db-password`)
      .catch((err: { response?: { statusCode?: number } }) => err.response?.statusCode);
    expect(metadata).toBe(404);
  });

  it('imports one secret per key whose current Vault value is the legacy value, then reports them already managed', async () => {
    const run = await importOrders();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('2 created, 0 already managed, 0 failed');
    assertNoValue(run.stdout + run.stderr, 'the import’s output');
    for (const [key, value] of Object.entries(values)) {
      const name = key.toLowerCase().replace(/_/g, '-');
      workflowIds.push(`secret/${a}/${name}`);
      await waitForStatus(rotor.client, `secret/${a}/${name}`, (s) => s.state === 'ACTIVE');
      const version = await current(name);
      expect(version.data.value === value, `${name} holds its legacy value`).toBe(true);
      expect(version.metadata.version).toBe(1);
    }
    // Who imported from where is audited, by name only.
    const audit = await rotor.clients.db
      .selectFrom('audit_events')
      .select(['actor', 'details'])
      .where('tenant_id', '=', a)
      .where('action', '=', 'secrets.kv_import')
      .execute();
    expect(audit.map((r) => JSON.stringify(r.details))).toEqual(
      expect.arrayContaining([expect.stringContaining('orders-db-password,stripe-api-key')]),
    );
    // The secrets it created were registered because of this API call: their rows say from where.
    const registered = await rotor.clients.db
      .selectFrom('audit_events')
      .innerJoin('secrets', 'secrets.id', 'audit_events.secret_id')
      .select(['audit_events.client_ip'])
      .where('audit_events.tenant_id', '=', a)
      .where('audit_events.action', '=', 'secret.registered')
      .where('secrets.name', 'in', ['orders-db-password', 'stripe-api-key'])
      .execute();
    expect(registered).toHaveLength(2);
    for (const row of registered)
      expect(row.client_ip).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
    // The legacy path is left as it was: consumers move over when they are ready.
    const legacy = (await rotor.vault.read(`${mount()}/data/${prefix}/orders`)) as KvVersion;
    expect(legacy.data.metadata.version).toBe(1);

    const again = await importOrders('--json');
    expect(again.code, again.stderr).toBe(0);
    const answer = JSON.parse(again.stdout) as ImportAnswer;
    expect(answer.secrets.map((s) => s.outcome)).toEqual(['exists', 'exists']);
    assertNoValue(again.stdout + again.stderr, 'the re-run’s output');
  });

  it('imports nothing when one key’s value breaks its type’s rules, unless partial is given', async () => {
    const strict = await importKv(api.tokens.admin, {
      path: `${prefix}/mixed`,
      type: 'service_token',
    });
    expect(strict.statusCode, strict.body).toBe(200);
    const refused = strict.json<ImportAnswer>().secrets;
    expect(refused.map((s) => [s.key, s.name, s.outcome])).toEqual([
      ['GOOD_TOKEN', 'good-token', 'not_imported'],
      ['WEAK_TOKEN', 'weak-token', 'invalid_value'],
    ]);
    expect(refused[1]?.reason).toContain('at least 16 characters');
    expect(strict.body).not.toContain('legacy-mixed-good-token');
    expect(await managedNames(['good-token', 'weak-token'])).toEqual([]);

    const partial = await importKv(api.tokens.admin, {
      path: `${prefix}/mixed`,
      type: 'service_token',
      partial: true,
    });
    expect(partial.statusCode, partial.body).toBe(200);
    expect(partial.json<ImportAnswer>().secrets.map((s) => s.outcome)).toEqual([
      'created',
      'invalid_value',
    ]);
    expect(partial.body).not.toContain('legacy-mixed-good-token');
    workflowIds.push(`secret/${a}/good-token`);
    await waitForStatus(rotor.client, `secret/${a}/good-token`, (s) => s.state === 'ACTIVE');
    expect(await managedNames(['good-token', 'weak-token'])).toEqual(['good-token']);
  });

  it('never puts a legacy value in any workflow history, search attribute or engine table', async () => {
    let runs = 0;
    for (const id of workflowIds) {
      for await (const run of rotor.client.workflow.list({ query: `WorkflowId = '${id}'` })) {
        const handle = rotor.client.workflow.getHandle(id, run.runId);
        assertNoValue(searchableText(await handle.fetchHistory()), `history of ${id}`);
        assertNoValue(searchableText((await handle.describe()).raw), `description of ${id}`);
        runs += 1;
      }
    }
    expect(runs).toBeGreaterThanOrEqual(3);
    const tables = await engineTablesAsText(rotor.clients.db);
    expect(tables.map((t) => t.table)).toEqual(
      expect.arrayContaining(['secrets', 'rotations', 'audit_events']),
    );
    for (const { table, text } of tables) assertNoValue(text, `table ${table}`);
  });
});
