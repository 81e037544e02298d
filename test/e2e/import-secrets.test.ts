import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogEntry } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDotEnv } from '../../cli/commands/import';
import { runCli } from '../helpers/cli';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { waitForStatus } from '../helpers/lifecycle';
import { RecordingVault, leakForms, searchableText } from '../helpers/recording-vault';
import { engineTablesAsText } from '../helpers/table-text';
import { createTestRotor } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';
import { selfSignedCertificate } from '../helpers/tls';

// Every log line the SDK, the worker and the activities emit in this process, at every level.
const logs: LogEntry[] = [];
Runtime.install({ logger: new DefaultLogger('TRACE', (entry) => logs.push(entry)) });

interface KvVersion {
  data: { data: Record<string, string>; metadata: { version: number } };
}

describe('bringing existing secrets in', () => {
  let rotor: TestRotor;
  let recording: RecordingVault;
  let api: TestApi;
  let apiUrl = '';
  let a = '';
  let dir = '';
  /** Every value this file imports: none may appear anywhere but Vault. */
  const imported: string[] = [];
  const workflowIds: string[] = [];

  beforeAll(async () => {
    rotor = await createTestRotor();
    recording = new RecordingVault(rotor.config);
    await rotor.startWorker({ deps: { vault: recording } });
    api = await createTestApi(rotor);
    apiUrl = await api.app.listen({ host: '127.0.0.1', port: 0 });
    a = api.tenantA;
    dir = mkdtempSync(path.join(os.tmpdir(), 'rotor-import-'));
  });
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await api?.app.close();
    await rotor?.close();
  });

  const kv = (name: string, version?: number) =>
    rotor.vault.read(
      `${rotor.config.vault.kvMount}/data/rotor/${a}/${name}${version ? `?version=${version}` : ''}`,
    ) as Promise<KvVersion>;
  const kvVersions = async (name: string) =>
    Object.keys(
      (
        (await rotor.vault.read(`${rotor.config.vault.kvMount}/metadata/rotor/${a}/${name}`)) as {
          data: { versions: Record<string, unknown> };
        }
      ).data.versions,
    );
  const create = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    api.call(api.tokens.a, 'POST', '/api/v1/secrets', { tenantId: a, ...body }, headers);
  const assertNoValue = (haystack: string, where: string): void => {
    expect(imported.length).toBeGreaterThan(0);
    for (const value of imported) {
      for (const form of leakForms(value))
        expect(haystack.includes(form), `${where} contains an imported value`).toBe(false);
    }
  };

  it('creates a secret whose first version is the imported value, with no generated value before it', async () => {
    const value = `imported-api-key-${'k'.repeat(24)}`;
    imported.push(value);
    const res = await create({ name: 'billing-key', type: 'api_key', initialValue: value });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.body).not.toContain(value);
    const workflowId = res.json<{ workflowId: string }>().workflowId;
    workflowIds.push(workflowId);
    const status = await waitForStatus(rotor.client, workflowId, (s) => s.state === 'ACTIVE');
    expect(status.currentVersion).toBe(1);
    expect(status.rotationsCompleted).toBe(1);
    const current = await kv('billing-key');
    expect(current.data.data.value).toBe(value);
    expect(current.data.metadata.version).toBe(1);
    expect(await kvVersions('billing-key')).toEqual(['1']);
    // The worker wrote exactly one value, the imported one, and only to the consumer path.
    const workerWrites = recording.writes.filter((w) => w.path.endsWith(`/${a}/billing-key`));
    expect(workerWrites).toEqual([{ path: `rotor/${a}/billing-key`, value }]);
    // The rotation row is finished by an activity that may run just after the state is shown.
    const rotation = () =>
      rotor.clients.db
        .selectFrom('rotations')
        .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
        .select(['rotations.reason', 'rotations.to_version'])
        .where('secrets.tenant_id', '=', a)
        .where('secrets.name', '=', 'billing-key')
        .execute();
    await expect
      .poll(rotation, { timeout: 20_000 })
      .toEqual([{ reason: 'initial: imported value', to_version: 1 }]);
  });

  it('rotates an imported secret like any other: the next version is generated', async () => {
    const res = await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/billing-key/rotate`, {
      reason: 'first rotation after import',
    });
    expect(res.statusCode, res.body).toBe(202);
    await waitForStatus(rotor.client, `secret/${a}/billing-key`, (s) => s.currentVersion === 2);
    const next = await kv('billing-key');
    expect(next.data.metadata.version).toBe(2);
    expect(next.data.data.value).not.toBe(imported[0]);
  });

  it('imports a certificate with its key, and takes its expiry from the certificate', async () => {
    const { cert, key } = selfSignedCertificate(400, 'imported.test');
    imported.push(key);
    const res = await create({
      name: 'edge-cert',
      type: 'tls_certificate',
      initialValue: cert,
      initialPrivateKey: key,
    });
    expect(res.statusCode, res.body).toBe(201);
    const workflowId = res.json<{ workflowId: string }>().workflowId;
    workflowIds.push(workflowId);
    // Its next rotation is scheduled ahead of the certificate's expiry.
    const status = await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 1);
    expect(new Date(status.nextRotationAt ?? 0).getTime()).toBeGreaterThan(Date.now());
    const current = await kv('edge-cert');
    expect(current.data.data).toMatchObject({ value: cert, private_key: key });
  });

  it('refuses a value that breaks its type’s rules with a 400 naming the field, never the value', async () => {
    const weak = 'weak-pw-12';
    for (const [type, value, field] of [
      ['database_password', weak, 'initialValue'],
      ['encryption_key', 'not-base64-of-a-key!', 'initialValue'],
      ['api_key', `line-one-is-long-enough\nline-two`, 'initialValue'],
      ['api_key', `${'p'.repeat(20)}`, 'initialPrivateKey'],
      ['tls_certificate', 'not a certificate at all', 'initialValue'],
    ] as const) {
      const res = await create({
        name: 'refused',
        type,
        initialValue: value,
        ...(field === 'initialPrivateKey' ? { initialPrivateKey: 'PRIVATE-KEY-MATERIAL' } : {}),
      });
      expect(res.statusCode, `${type}: ${res.body}`).toBe(400);
      const body = res.json<{ error: { code: string; issues: { field: string }[] } }>();
      expect(body.error.code).toBe('ROT_ERR_VALIDATION');
      expect(body.error.issues.map((i) => i.field)).toContain(field);
      expect(res.body).not.toContain(value);
      expect(res.body).not.toContain('PRIVATE-KEY-MATERIAL');
    }
    const rows = await rotor.clients.db
      .selectFrom('secrets')
      .select('id')
      .where('tenant_id', '=', a)
      .where('name', '=', 'refused')
      .execute();
    expect(rows).toEqual([]);
  });

  it('refuses to import over a managed secret with 409 ROT_ERR_ALREADY_MANAGED, keeping its value', async () => {
    const before = await kv('billing-key');
    const res = await create({
      name: 'billing-key',
      type: 'api_key',
      initialValue: `another-value-${'z'.repeat(20)}`,
    });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toMatchObject({ error: { code: 'ROT_ERR_ALREADY_MANAGED' } });
    const after = await kv('billing-key');
    expect(after.data.metadata.version).toBe(before.data.metadata.version);
    expect(after.data.data.value).toBe(before.data.data.value);
  });

  it('lets exactly one of two concurrent imports of a new secret win, and keeps the winner’s value', async () => {
    const values = [`racing-value-one-${'1'.repeat(16)}`, `racing-value-two-${'2'.repeat(16)}`];
    imported.push(...values);
    const answers = await Promise.all(
      values.map((initialValue) => create({ name: 'raced', type: 'api_key', initialValue })),
    );
    const codes = answers.map((r) => r.statusCode).sort();
    expect(codes, answers.map((r) => r.body).join(' ')).toEqual([201, 409]);
    const winner = answers.findIndex((r) => r.statusCode === 201);
    workflowIds.push(`secret/${a}/raced`);
    await waitForStatus(rotor.client, `secret/${a}/raced`, (s) => s.state === 'ACTIVE');
    const current = await kv('raced');
    expect(current.data.data.value).toBe(values[winner]);
    expect(current.data.metadata.version).toBe(1);
  });

  it('replays the first answer for a retried create with the same Idempotency-Key', async () => {
    const value = `idempotent-import-${'i'.repeat(20)}`;
    imported.push(value);
    const headers = { 'idempotency-key': `import-${a}` };
    const body = { name: 'webhook', type: 'webhook_secret', initialValue: value };
    const first = await create(body, headers);
    expect(first.statusCode, first.body).toBe(201);
    const again = await create(body, headers);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const workflowId = first.json<{ workflowId: string }>().workflowId;
    workflowIds.push(workflowId);
    await waitForStatus(rotor.client, workflowId, (s) => s.state === 'ACTIVE');
    expect(await kvVersions('webhook')).toEqual(['1']);
  });

  describe('rotor import from a .env file', () => {
    const env = (name: string, text: string) => {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const values = {
      DB_PASSWORD: 'dotenv-db-password-0123456789',
      STRIPE_KEY: 'dotenv stripe key with spaces #1',
      JWT_SIGNING: "dotenv-jwt-'quoted'-0123456789abcdefghij",
    };
    const dotenv = [
      '# service settings',
      '',
      `export DB_PASSWORD=${values.DB_PASSWORD}   # inline comment`,
      `STRIPE_KEY="${values.STRIPE_KEY}"`,
      `JWT_SIGNING="${values.JWT_SIGNING.replace(/'/g, "\\'")}"`,
    ].join('\n');
    const cli = (...args: string[]) => runCli(apiUrl, api.tokens.a, ...args);
    const assertNoValueIn = (out: string) => {
      for (const v of Object.values(values)) expect(out).not.toContain(v);
    };

    it('reads keys, comments, quotes and the export prefix', () => {
      const { entries, problems } = parseDotEnv(dotenv);
      expect(problems).toEqual([]);
      expect(entries.map((e) => [e.line, e.name, e.value])).toEqual([
        [3, 'db-password', values.DB_PASSWORD],
        [4, 'stripe-key', values.STRIPE_KEY],
        [5, 'jwt-signing', values.JWT_SIGNING],
      ]);
    });

    it('prints what a dry run would create, creates nothing and prints no value', async () => {
      imported.push(...Object.values(values));
      const file = env('app.env', dotenv);
      const run = await cli('import', file, '--tenant', a, '--type', 'service_token', '--dry-run');
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`line 3: ${a}/db-password would create`);
      expect(run.stdout).toContain('3 would be created, 0 already managed, 0 failed');
      assertNoValueIn(run.stdout + run.stderr);
      const rows = await rotor.clients.db
        .selectFrom('secrets')
        .select('name')
        .where('tenant_id', '=', a)
        .where('name', 'in', ['db-password', 'stripe-key', 'jwt-signing'])
        .execute();
      expect(rows).toEqual([]);
    });

    it('imports every secret with its value, then reports them already managed on a re-run', async () => {
      const file = env('app.env', dotenv);
      const run = await cli('import', file, '--tenant', a, '--type', 'service_token');
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('3 created, 0 already managed, 0 failed');
      expect(run.stderr).toContain('3/3 imported');
      assertNoValueIn(run.stdout + run.stderr);
      for (const [key, value] of Object.entries(values)) {
        const name = key.toLowerCase().replace(/_/g, '-');
        workflowIds.push(`secret/${a}/${name}`);
        await waitForStatus(rotor.client, `secret/${a}/${name}`, (s) => s.state === 'ACTIVE');
        const current = await kv(name);
        expect(current.data.data.value).toBe(value);
        expect(current.data.metadata.version).toBe(1);
      }
      const again = await cli('import', file, '--tenant', a, '--type', 'service_token', '--json');
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ created: 0, alreadyManaged: 3, failed: 0 });
      assertNoValueIn(again.stdout + again.stderr);
    });

    it('names a malformed line by number, not its content, and imports nothing', async () => {
      const secretLine = 'BROKEN_LINE_WITH_A_SECRET-VALUE-9f8e7d';
      const file = env(
        'broken.env',
        [
          'FRESH_ONE=fresh-one-value-0123456789',
          secretLine,
          'OPEN_QUOTE="unclosed-secret-abc',
        ].join('\n'),
      );
      const run = await cli('import', file, '--tenant', a, '--type', 'service_token');
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('line 2: is not KEY=value');
      expect(run.stderr).toContain('line 3: has a quote that is not closed');
      expect(run.stderr).toContain('ROT_ERR_IMPORT_MALFORMED');
      for (const leak of ['9f8e7d', 'unclosed-secret-abc', 'fresh-one-value'])
        expect(run.stdout + run.stderr).not.toContain(leak);
      const rows = await rotor.clients.db
        .selectFrom('secrets')
        .select('name')
        .where('tenant_id', '=', a)
        .where('name', '=', 'fresh-one')
        .execute();
      expect(rows).toEqual([]);
    });

    it('imports the lines that parse with --partial, and counts the rest as failed', async () => {
      const value = 'partial-good-value-0123456789';
      imported.push(value);
      const file = env('partial.env', [`PARTIAL_GOOD=${value}`, 'no equals sign here'].join('\n'));
      const run = await cli('import', file, '--tenant', a, '--type', 'service_token', '--partial');
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('line 2: is not KEY=value');
      expect(run.stdout).toContain(`line 1: ${a}/partial-good created`);
      expect(run.stdout).toContain('line 2: (not read) failed (ROT_ERR_IMPORT_MALFORMED)');
      expect(run.stdout).toContain('1 created, 0 already managed, 1 failed');
      expect(run.stdout + run.stderr).not.toContain(value);
      workflowIds.push(`secret/${a}/partial-good`);
      await waitForStatus(rotor.client, `secret/${a}/partial-good`, (s) => s.state === 'ACTIVE');
      expect((await kv('partial-good')).data.data.value).toBe(value);
    });

    it('reports a value the type refuses as failed with its code, and prints no value', async () => {
      const file = env('weak.env', 'WEAK_ONE=short\n');
      const run = await cli('import', file, '--tenant', a, '--type', 'service_token');
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`line 1: ${a}/weak-one failed (ROT_ERR_VALIDATION)`);
      expect(run.stdout + run.stderr).not.toContain('short');
    });
  });

  describe('imported values', () => {
    it('never appear in any workflow history, raw or base64', async () => {
      let runs = 0;
      for (const id of workflowIds) {
        for await (const run of rotor.client.workflow.list({ query: `WorkflowId = '${id}'` })) {
          const history = await rotor.client.workflow.getHandle(id, run.runId).fetchHistory();
          assertNoValue(searchableText(history), `history of ${id} run ${run.runId}`);
          runs += 1;
        }
      }
      expect(runs).toBeGreaterThanOrEqual(workflowIds.length);
    });

    it('never appear in search attributes or memo', async () => {
      for (const id of workflowIds) {
        const description = await rotor.client.workflow.getHandle(id).describe();
        assertNoValue(searchableText(description.raw), `description of ${id}`);
      }
    });

    it('never appear in the logs of the worker and its activities', () => {
      expect(logs.length).toBeGreaterThan(0);
      assertNoValue(
        JSON.stringify(logs, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
        'the logs',
      );
    });

    it('never appear in any engine database table, audit rows included', async () => {
      const tables = await engineTablesAsText(rotor.clients.db);
      expect(tables.map((t) => t.table)).toEqual(
        expect.arrayContaining(['secrets', 'rotations', 'audit_events']),
      );
      for (const { table, text } of tables) assertNoValue(text, `table ${table}`);
    });
  });
});
