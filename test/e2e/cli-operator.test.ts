import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { runCli } from '../helpers/cli';
import type { CliRun } from '../helpers/cli';
import { waitForStatus } from '../helpers/lifecycle';
import { setUpPgTarget } from '../helpers/pg-target';
import type { PgTarget } from '../helpers/pg-target';
import { createTestRotor, testConfig } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

/**
 * The README's operator walk-through, done with the CLI alone against a live API, a worker and a
 * real PostgreSQL role: break the target, see NEEDS_ATTENTION, fix it, retry. Then the other
 * controls: policy get/set, supply from a file, break-glass and retire.
 */
describe('an operator runs Rotor from the CLI alone', () => {
  let target: PgTarget;
  let rotor: TestRotor;
  let api: TestApi;
  let url = '';
  let t = '';
  let role = '';
  let work = '';
  const cli = (token: string, ...args: string[]): Promise<CliRun> => runCli(url, token, ...args);
  const ok = async (token: string, ...args: string[]): Promise<string> => {
    const run = await cli(token, ...args);
    expect(run.code, `rotor ${args.join(' ')}: ${run.stderr}`).toBe(0);
    return run.stdout;
  };
  beforeAll(async () => {
    target = await setUpPgTarget();
    rotor = await createTestRotor(testConfig({ ROTOR_TARGET_DATABASE_URL: target.rotatorUrl }));
    await rotor.startWorker();
    api = await createTestApi(rotor);
    url = await api.app.listen({ host: '127.0.0.1', port: 0 });
    t = api.tenantA;
    [role = ''] = await target.createRoles('orders_app');
    work = await mkdtemp(path.join(os.tmpdir(), 'rotor-cli-operator-'));
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
    await target?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('recovers a failed rotation: broken target → NEEDS_ATTENTION → fixed → retry', async () => {
    await ok(
      api.tokens.operator,
      'secrets',
      'create',
      t,
      'orders-db',
      '--type',
      'database_password',
      '--target',
      JSON.stringify({ kind: 'postgres_role', strategy: 'single', role }),
      '--no-requires-approval',
      '--max-attempts',
      '1',
    );
    const first = await waitForStatus(
      rotor.client,
      `secret/${t}/orders-db`,
      (s) => s.state === 'ACTIVE' && s.currentVersion === 1 && !s.rotationId,
    );
    expect(first.currentVersion).toBe(1);

    // Break the target: the role takes no connections, so verifying a new password fails.
    await target.superuser.query(`ALTER ROLE ${pg.escapeIdentifier(role)} CONNECTION LIMIT 0`);
    const failed = await cli(
      api.tokens.a,
      'secrets',
      'rotate',
      t,
      'orders-db',
      '--reason',
      'monthly',
      '--wait',
    );
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toContain('rotation failed');
    expect(failed.stderr).toMatch(/NEEDS_ATTENTION/);

    const status = await ok(api.tokens.a, 'secrets', 'status', t, 'orders-db');
    expect(status.split('\n')[0]).toBe(`${t}/orders-db  database_password  NEEDS_ATTENTION`);
    expect(status).toMatch(/^policy$/m);
    expect(status).toMatch(/^ {2}maxAttempts\s+1$/m);
    expect(status).toMatch(/^rotations \(newest first\)$/m);
    expect(status).toMatch(/FAILED/);

    const refused = await cli(
      api.tokens.a,
      'secrets',
      'rotate',
      t,
      'orders-db',
      '--reason',
      'again',
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('✗ ROT_ERR_NEEDS_ATTENTION');
    expect(refused.stderr).toContain(
      '→ see what failed (rotor secrets status), fix it, then rotor secrets retry',
    );

    // Fix the target, then retry and follow the new rotation to the end.
    await target.superuser.query(`ALTER ROLE ${pg.escapeIdentifier(role)} CONNECTION LIMIT -1`);
    const retried = await cli(
      api.tokens.a,
      '--json',
      'secrets',
      'retry',
      t,
      'orders-db',
      '--reason',
      'login restored',
      '--wait',
    );
    expect(retried.code, retried.stderr).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({
      accepted: true,
      action: 'retry',
      state: 'NEEDS_ATTENTION',
      rotationStatus: expect.stringMatching(/^(PROMOTED|COMPLETED)$/) as unknown,
    });
    const after = await waitForStatus(
      rotor.client,
      `secret/${t}/orders-db`,
      (s) => s.state !== 'NEEDS_ATTENTION' && s.currentVersion === 2,
    );
    const current = await rotor.clients.vault.read(
      `rotor/${t}/orders-db`,
      after.currentVersion ?? 0,
    );
    expect(await target.loginError(role, String(current?.data.value))).toBeNull();
  });

  it('reads and replaces a policy: policy get prints it readably, policy set replaces the overrides', async () => {
    // A secret with no grace period running: the lifecycle takes a new policy from its main loop.
    await ok(api.tokens.a, 'secrets', 'create', t, 'svc-key', '--type', 'api_key');
    await waitForStatus(rotor.client, `secret/${t}/svc-key`, (s) => s.state === 'ACTIVE');
    const set = await ok(
      api.tokens.a,
      'secrets',
      'policy',
      'set',
      t,
      'svc-key',
      '--interval',
      '7200',
      '--no-requires-approval',
      '--max-attempts',
      '3',
    );
    expect(set).toContain('accepted');
    expect(set).toMatch(/schedule\s+every 2h/);
    // The lifecycle takes the new policy over (a signal); its row shows it moments later.
    await expect
      .poll(
        async () =>
          (
            await rotor.clients.db
              .selectFrom('secrets')
              .select('policy')
              .where('tenant_id', '=', t)
              .where('name', '=', 'svc-key')
              .executeTakeFirstOrThrow()
          ).policy as { maxAttempts?: number },
        { timeout: 30_000 },
      )
      .toMatchObject({ maxAttempts: 3 });
    const policy = JSON.parse(
      await ok(api.tokens.a, '--json', 'secrets', 'policy', 'get', t, 'svc-key'),
    ) as { schedule: { everySeconds?: number }; maxAttempts: number; requiresApproval: boolean };
    expect(policy).toMatchObject({
      schedule: { everySeconds: 7200 },
      maxAttempts: 3,
      requiresApproval: false,
    });
    const bad = await cli(
      api.tokens.a,
      'secrets',
      'policy',
      'set',
      t,
      'svc-key',
      '--max-attempts',
      '99',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('policy.maxAttempts');
  });

  it('supplies an owner value from a file, never from an argument', async () => {
    await ok(api.tokens.a, 'secrets', 'create', t, 'oauth', '--type', 'oauth_client_secret');
    await waitForStatus(rotor.client, `secret/${t}/oauth`, (s) => s.state === 'AWAITING_VALUE');
    const file = path.join(work, 'client-secret');
    const value = `cs-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
    await writeFile(file, `${value}\n`, { mode: 0o600 });
    const supplied = await cli(
      api.tokens.a,
      '--json',
      'secrets',
      'supply',
      t,
      'oauth',
      '--value-file',
      file,
    );
    expect(supplied.code, supplied.stderr).toBe(0);
    expect(JSON.parse(supplied.stdout)).toMatchObject({ accepted: true, version: 1 });
    expect(supplied.stdout + supplied.stderr).not.toContain(value);
    const done = await waitForStatus(
      rotor.client,
      `secret/${t}/oauth`,
      (s) => s.state === 'ACTIVE',
    );
    const read = await rotor.clients.vault.read(`rotor/${t}/oauth`, done.currentVersion ?? 0);
    // One trailing line break (what editors add) is dropped; the value is otherwise as written.
    expect(read?.data.value).toBe(value);
    const missing = await cli(
      api.tokens.a,
      'secrets',
      'supply',
      t,
      'oauth',
      '--value-file',
      path.join(work, 'nope'),
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--value-file: cannot read the file (ENOENT)');
  });

  it('break-glass is for admins and can be followed to the end; retire ends the lifecycle', async () => {
    const tenant = await cli(
      api.tokens.a,
      'secrets',
      'break-glass',
      t,
      'orders-db',
      '--reason',
      'leak',
    );
    expect(tenant.code).toBe(1);
    expect(tenant.stderr).toContain('✗ ROT_ERR_FORBIDDEN');
    expect(tenant.stderr).toContain('→ use a token with one of the roles named');
    const admin = await cli(
      api.tokens.admin,
      '--json',
      'secrets',
      'break-glass',
      t,
      'orders-db',
      '--reason',
      'leak',
      '--wait',
    );
    expect(admin.code, admin.stderr).toBe(0);
    expect(JSON.parse(admin.stdout)).toMatchObject({
      accepted: true,
      rotationStatus: expect.stringMatching(/^(PROMOTED|COMPLETED)$/) as unknown,
    });
    await ok(api.tokens.a, 'secrets', 'retire', t, 'oauth', '--reason', 'client deleted');
    await waitForStatus(rotor.client, `secret/${t}/oauth`, (s) => s.state === 'RETIRED');
  });
});
