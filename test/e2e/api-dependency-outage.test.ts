import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { createToken } from '../../api/auth/tokens';
import { createDb } from '../../db';
import { connectTemporalClient } from '../../engine';
import { Role } from '../../domain';
import { VaultKv } from '../../vault';
import { runCli } from '../helpers/cli';
import { waitForStatus } from '../helpers/lifecycle';
import { pollUntil } from '../helpers/poll';
import { leakForms } from '../helpers/recording-vault';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';
import { startToggleProxy } from '../helpers/toggle-proxy';
import type { ToggleProxy } from '../helpers/toggle-proxy';

interface ErrorAnswer {
  error: { code: string; message: string };
}

const hostPort = (hostAndPort: string) => {
  const [host = '127.0.0.1', port = ''] = hostAndPort.split(':');
  return { host, port: Number(port) };
};

// The API's own Vault, engine database and Temporal connections each go through a proxy this
// file takes down and brings back: a real outage as each client library sees it, while the
// worker (on the real servers) keeps running the lifecycles.
describe('a dependency that is down answers a coded 503, never a 500', () => {
  let rotor: TestRotor;
  let app: FastifyInstance;
  let vaultProxy: ToggleProxy;
  let dbProxy: ToggleProxy;
  let temporalProxy: ToggleProxy;
  let temporalClient: Client;
  const logLines: string[] = [];
  const tenant = uniqueName('outage');
  const prefix = `legacy-${uniqueName('outage')}`;
  const legacyValue = 'legacy-outage-value-6b1e0c93d2a7';
  const suppliedValue = 'supplied-outage-value-0f9d2c71';
  let admin = '';
  let owner = '';

  const call = (token: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const readValue = () =>
    call(owner, 'POST', `/api/v1/secrets/${tenant}/readable/value`, { reason: 'outage drill' });
  const supply = () =>
    call(owner, 'POST', `/api/v1/secrets/${tenant}/client-secret/supply`, {
      value: suppliedValue,
    });
  const importKv = () =>
    call(admin, 'POST', `/api/v1/tenants/${tenant}/imports/kv`, {
      path: `${prefix}/app`,
      type: 'service_token',
      dryRun: true,
    });
  const currentValue = async () =>
    (await rotor.clients.vault.read(`rotor/${tenant}/readable`))?.data.value as string;
  const outageCount = async (dependency: string) => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`api_dependency_unavailable_total{dependency="${dependency}"}`));
    return Number(line?.split(' ')[1]);
  };
  /**
   * The approvals list (a Temporal call) once Temporal is back: gRPC reconnects with its own
   * backoff, so the first calls after an outage may still answer 503.
   */
  const approvalsAgain = () =>
    pollUntil(
      'Temporal to answer again',
      () => call(admin, 'GET', '/api/v1/approvals'),
      (res) => res.statusCode !== 503,
      { timeout: 60_000 },
    );
  const expectOutage = (res: LightMyRequestResponse, named: string, values: string[]) => {
    expect(res.statusCode, res.body).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    const body = res.json<ErrorAnswer>();
    expect(body.error.code).toBe('ROT_ERR_DEPENDENCY_UNAVAILABLE');
    expect(body.error.message).toMatch(new RegExp(`^${named} is not reachable.*retry`));
    for (const value of values)
      for (const form of leakForms(value)) expect(res.body).not.toContain(form);
    // Nor where it is: no port, host or path of the dependency.
    expect(body.error.message).not.toMatch(/127\.0\.0\.1|:\d{2,5}|rotor\/|legacy-/);
  };

  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    const vaultUrl = new URL(rotor.config.vault.addr);
    vaultProxy = await startToggleProxy({ host: vaultUrl.hostname, port: Number(vaultUrl.port) });
    const dbUrl = new URL(rotor.config.databaseUrl);
    dbProxy = await startToggleProxy({ host: dbUrl.hostname, port: Number(dbUrl.port) });
    dbUrl.port = String(dbProxy.port);
    temporalProxy = await startToggleProxy(hostPort(rotor.config.temporal.address));
    // The API's own client (its few attempts are what keeps a 503 quick), through the proxy.
    temporalClient = await connectTemporalClient({
      ...rotor.config,
      temporal: { ...rotor.config.temporal, address: `127.0.0.1:${temporalProxy.port}` },
    });
    const db = createDb(dbUrl.toString(), { max: 2 });
    app = buildApp({
      checks: {},
      logLevel: 'info',
      logStream: { write: (line: string) => void logLines.push(line) },
      services: {
        db,
        temporal: temporalClient,
        config: {
          ...rotor.config,
          api: { ...rotor.config.api, importKvPrefixes: [prefix] },
        },
        vault: new VaultKv(
          nodeVault({
            apiVersion: 'v1',
            endpoint: `http://127.0.0.1:${vaultProxy.port}`,
            token: rotor.config.vault.token,
          }),
          rotor.config.vault.kvMount,
        ),
      },
    });
    app.addHook('onClose', () => db.destroy());
    await rotor.clients.db.insertInto('tenants').values({ id: tenant, name: tenant }).execute();
    const mint = async (role: Role, tenantId: string | null) =>
      (await createToken(rotor.clients.db, { name: uniqueName(role), role, tenantId })).token;
    admin = await mint(Role.Admin, null);
    owner = await mint(Role.Tenant, tenant);
    await rotor.vault.write(`${rotor.config.vault.kvMount}/data/${prefix}/app`, {
      data: { APP_TOKEN: legacyValue },
    });
    for (const [name, type, policy] of [
      ['readable', 'api_key', { allowValueRead: true }],
      ['client-secret', 'oauth_client_secret', { requiresApproval: false }],
    ] as const) {
      const res = await call(owner, 'POST', '/api/v1/secrets', {
        tenantId: tenant,
        name,
        type,
        policy,
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    await waitForStatus(rotor.client, `secret/${tenant}/readable`, (s) => s.state === 'ACTIVE');
    await waitForStatus(
      rotor.client,
      `secret/${tenant}/client-secret`,
      (s) => s.state === 'AWAITING_VALUE',
    );
  });
  afterAll(async () => {
    await app?.close();
    await temporalClient?.connection.close();
    for (const proxy of [vaultProxy, dbProxy, temporalProxy]) await proxy?.close();
    await rotor?.close();
  });

  it('answers 503 naming Vault for a value read, a supplied value and a KV import while Vault is down (and the CLI prints it with a hint), then serves them once it is back', async () => {
    const value = await currentValue();
    await vaultProxy.down();
    try {
      expectOutage(await readValue(), 'Vault', [value]);
      expectOutage(await supply(), 'Vault', [suppliedValue]);
      expectOutage(await importKv(), 'Vault', [legacyValue]);
      expect(await outageCount('vault')).toBe(3);
      expect(await outageCount('database')).toBe(0);

      // The CLI prints the code, the message and what to do; exit 1, nothing on stdout.
      const apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
      const cli = await runCli(
        apiUrl,
        owner,
        'secrets',
        'value',
        tenant,
        'readable',
        '--reason',
        'drill',
      );
      expect(cli.code).toBe(1);
      expect(cli.stdout).toBe('');
      expect(cli.stderr).toContain(
        '✗ ROT_ERR_DEPENDENCY_UNAVAILABLE: Vault is not reachable right now; retry in 5 seconds',
      );
      expect(cli.stderr).toMatch(/→ .*retry/);
      for (const form of leakForms(value)) expect(cli.stderr).not.toContain(form);
    } finally {
      await vaultProxy.up();
    }
    // Every read that failed on Vault is in the audit log as a failure, with its reason and
    // never the value.
    const failedReads = await rotor.clients.db
      .selectFrom('audit_events')
      .select(['outcome', 'details', 'actor'])
      .where('tenant_id', '=', tenant)
      .where('action', '=', 'secret.value_read')
      .execute();
    expect(failedReads).toHaveLength(2); // the API call and the CLI's
    for (const row of failedReads) {
      expect(row.outcome).toBe('failure');
      expect(row.details).toMatchObject({ secret: 'readable', why: 'vault error' });
      for (const form of leakForms(value)) expect(JSON.stringify(row)).not.toContain(form);
    }

    const read = await readValue();
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({ value });
    const supplied = await supply();
    expect(supplied.statusCode, supplied.body).toBe(202);
    const imported = await importKv();
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toMatchObject({
      secrets: [{ key: 'APP_TOKEN', outcome: 'would_create' }],
    });

    // One line per outage, naming the dependency and the error's kind, never its message.
    const outages = logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'dependency unavailable');
    expect(outages).toHaveLength(4);
    expect(outages[0]).toMatchObject({ dependency: 'vault', errorKind: 'VaultUnavailable' });
    const logs = logLines.join('\n');
    for (const v of [value, suppliedValue, legacyValue])
      for (const form of leakForms(v)) expect(logs).not.toContain(form);
  });

  it('answers 503 naming the engine database for a listing while it is down, then lists again', async () => {
    await dbProxy.down();
    try {
      expectOutage(
        await call(owner, 'GET', `/api/v1/secrets?tenantId=${tenant}`),
        'The engine database',
        [],
      );
    } finally {
      await dbProxy.up();
    }
    // The pool drops the connections the outage cut and opens new ones.
    const listed = await pollUntil(
      'the listing to answer again',
      () => call(owner, 'GET', `/api/v1/secrets?tenantId=${tenant}`),
      (res) => res.statusCode !== 503,
      { timeout: 30_000 },
    );
    expect(listed.statusCode, listed.body).toBe(200);
    expect(await outageCount('database')).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 naming Temporal for the approvals list while Temporal is down, then lists again', async () => {
    await temporalProxy.down();
    try {
      expectOutage(await call(admin, 'GET', '/api/v1/approvals'), 'Temporal', []);
    } finally {
      await temporalProxy.up();
    }
    const listed = await approvalsAgain();
    expect(listed.statusCode, listed.body).toBe(200);
    expect(await outageCount('temporal')).toBeGreaterThanOrEqual(1);
  });
  it('answers 503 naming Temporal for a bulk rotation asked for while Temporal is down, and leaves no batch behind that would never start', async () => {
    const batchesOf = async () =>
      (
        await rotor.clients.db
          .selectFrom('bulk_batches')
          .select('id')
          .where('tenant_id', '=', tenant)
          .execute()
      ).length;
    expect(await batchesOf()).toBe(0);
    await temporalProxy.down();
    try {
      const refused = await call(admin, 'POST', '/api/v1/rotations/bulk', {
        tenantId: tenant,
        reason: 'outage drill',
      });
      expectOutage(refused, 'Temporal', []);
      // The batch's row is written before its workflow starts; a start that failed removes it,
      // so no progress reads "asking" for ever.
      expect(await batchesOf()).toBe(0);
    } finally {
      await temporalProxy.up();
    }
    expect(await outageCount('temporal')).toBeGreaterThanOrEqual(1);
    // Later tests start workflows.
    const listed = await approvalsAgain();
    expect(listed.statusCode, listed.body).toBe(200);
  });
  it("reads a bulk batch's progress from the database while Temporal is down, and counts a batch that has not said how many it asked as neither done nor finished", async () => {
    const bulkTenant = uniqueName('bulkout');
    await rotor.clients.db
      .insertInto('tenants')
      .values({ id: bulkTenant, name: bulkTenant })
      .execute();
    for (const name of ['b1', 'b2']) {
      const res = await call(admin, 'POST', '/api/v1/secrets', {
        tenantId: bulkTenant,
        name,
        type: 'api_key',
      });
      expect(res.statusCode, res.body).toBe(201);
      await waitForStatus(
        rotor.client,
        `secret/${bulkTenant}/${name}`,
        (st) => st.state === 'ACTIVE',
      );
    }
    const started = await call(admin, 'POST', '/api/v1/rotations/bulk', {
      tenantId: bulkTenant,
      reason: 'outage drill',
    });
    expect(started.statusCode, started.body).toBe(202);
    const { batchId } = started.json<{ batchId: string }>();
    const progressOf = (id: string) => call(admin, 'GET', `/api/v1/rotations/bulk/${id}`);
    const finished = await pollUntil(
      'the batch to finish',
      () => progressOf(batchId),
      (res) => res.statusCode === 200 && res.json<{ finished: boolean }>().finished,
      { timeout: 90_000 },
    );
    expect(finished.json()).toMatchObject({ total: 2, requested: 2, completed: 2, failed: 0 });
    // A batch whose workflow has not yet recorded how many secrets it reached.
    const asking = randomUUID();
    await rotor.clients.db
      .insertInto('bulk_batches')
      .values({ id: asking, tenant_id: bulkTenant, total: 3, requested_by: 'ops' })
      .execute();

    await temporalProxy.down();
    try {
      const during = await progressOf(batchId);
      expect(during.statusCode, during.body).toBe(200);
      expect(during.json()).toEqual(finished.json());
      const unanswered = await progressOf(asking);
      expect(unanswered.statusCode, unanswered.body).toBe(200);
      expect(unanswered.json()).toMatchObject({
        total: 3,
        requested: 0,
        completed: 0,
        done: false,
        finished: false,
      });
    } finally {
      await temporalProxy.up();
    }
  });
});
