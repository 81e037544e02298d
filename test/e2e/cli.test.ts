import { execFile } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { createToken } from '../../api/auth/tokens';
import { Role } from '../../domain';
import { REPO_ROOT } from '../../devstack/paths';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the rotor CLI, run as a subprocess against a live API', () => {
  let rotor: TestRotor;
  let app: FastifyInstance;
  let apiUrl = '';
  const tenant = uniqueName('cli');
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    app = buildApp({
      checks: {},
      logLevel: 'silent',
      services: { db: rotor.clients.db, temporal: rotor.client, config: rotor.config },
    });
    apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    await rotor.clients.db.insertInto('tenants').values({ id: tenant, name: tenant }).execute();
    tokens.owner = (
      await createToken(rotor.clients.db, {
        name: 'owner@cli',
        role: Role.Tenant,
        tenantId: tenant,
      })
    ).token;
    tokens.security = (
      await createToken(rotor.clients.db, { name: 'sam@security', role: Role.Security })
    ).token;
  });
  afterAll(async () => {
    await app?.close();
    await rotor?.close();
  });

  const rotor_ = (token: string | undefined, ...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        'bin/rotor',
        args,
        {
          cwd: REPO_ROOT,
          env: {
            PATH: process.env.PATH,
            ROTOR_API_URL: apiUrl,
            ...(token ? { ROTOR_TOKEN: token } : {}),
          },
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('creates, lists and shows a secret as a table or JSON', async () => {
    const created = await rotor_(
      tokens.owner,
      'secrets',
      'create',
      tenant,
      'cli-key',
      '--type',
      'api_key',
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`secret/${tenant}/cli-key`);
    await waitForStatus(rotor.client, `secret/${tenant}/cli-key`, (s) => s.state === 'ACTIVE');
    const table = await rotor_(tokens.owner, 'secrets', 'list');
    expect(table.stdout.split('\n')[0]).toMatch(/^TENANTID\s+NAME\s+TYPE\s+STATE/);
    expect(table.stdout).toMatch(new RegExp(`${tenant}\\s+cli-key\\s+api_key\\s+ACTIVE\\s+1`));
    const listed = JSON.parse((await rotor_(tokens.owner, '--json', 'secrets', 'list')).stdout) as {
      name: string;
    }[];
    expect(listed.map((s) => s.name)).toEqual(['cli-key']);
    const status = JSON.parse(
      (await rotor_(tokens.owner, '--json', 'secrets', 'status', tenant, 'cli-key')).stdout,
    ) as {
      currentVersion: number;
    };
    expect(status.currentVersion).toBe(1);
  });

  it('lists a pending approval and approves it as security', async () => {
    expect(
      (
        await rotor_(
          tokens.owner,
          'secrets',
          'create',
          tenant,
          'cli-db',
          '--type',
          'database_password',
        )
      ).code,
    ).toBe(0);
    await waitForStatus(rotor.client, `secret/${tenant}/cli-db`, (s) => s.state === 'ACTIVE');
    expect(
      (await rotor_(tokens.owner, 'secrets', 'rotate', tenant, 'cli-db', '--reason', 'cli test'))
        .code,
    ).toBe(0);
    const pending = await waitForStatus(
      rotor.client,
      `secret/${tenant}/cli-db`,
      (s) => s.state === 'AWAITING_APPROVAL',
    );
    const rotationId = pending.pendingApproval?.rotationId ?? '';
    await expect
      .poll(
        async () => (await rotor_(tokens.security, 'approvals', 'list', '--tenant', tenant)).stdout,
        { timeout: 15_000 },
      )
      .toContain(rotationId);
    const approved = await rotor_(
      tokens.security,
      'approvals',
      'approve',
      tenant,
      'cli-db',
      '--rotation',
      rotationId,
    );
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/outcome\s+approved/);
    await waitForStatus(rotor.client, `secret/${tenant}/cli-db`, (s) => s.currentVersion === 2);
  });

  it('says what is wrong, with the API’s code and fields, and exits non-zero', async () => {
    const bad = await rotor_(
      tokens.owner,
      'secrets',
      'create',
      tenant,
      'Bad Name',
      '--type',
      'ssh_key',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('✗ ROT_ERR_VALIDATION');
    expect(bad.stderr).toMatch(/- name: /);
    expect(bad.stderr).toMatch(/- type: /);
    const refused = await rotor_(
      tokens.owner,
      'approvals',
      'approve',
      tenant,
      'cli-db',
      '--rotation',
      'x',
    );
    expect(refused.stderr).toContain('ROT_ERR_FORBIDDEN');
    const noToken = await rotor_(undefined, 'secrets', 'list');
    expect(noToken.code).toBe(78);
    expect(noToken.stderr).toContain('ROTOR_TOKEN is required');
  });

  it('bulk-rotates every secret of a tenant with a progress bar, and waits for approvals as settled', async () => {
    const bulkTenant = uniqueName('bulk');
    await rotor.clients.db
      .insertInto('tenants')
      .values({ id: bulkTenant, name: bulkTenant })
      .execute();
    const owner = (
      await createToken(rotor.clients.db, {
        name: 'owner@bulk',
        role: Role.Tenant,
        tenantId: bulkTenant,
      })
    ).token;
    const names = ['k1', 'k2', 'k3'];
    for (const name of names) {
      expect(
        (await rotor_(owner, 'secrets', 'create', bulkTenant, name, '--type', 'service_token'))
          .code,
      ).toBe(0);
    }
    expect(
      (await rotor_(owner, 'secrets', 'create', bulkTenant, 'db', '--type', 'database_password'))
        .code,
    ).toBe(0);
    for (const name of [...names, 'db']) {
      await waitForStatus(
        rotor.client,
        `secret/${bulkTenant}/${name}`,
        (s) => s.state === 'ACTIVE',
      );
    }
    const run = await rotor_(owner, '--json', 'bulk-rotate', '--reason', 'suspected breach');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/batch [0-9a-f-]{36}: 4 secrets/);
    expect(run.stderr).toContain('] 4/4 rotated 3, failed 0, awaiting approval 1');
    expect(JSON.parse(run.stdout)).toMatchObject({
      total: 4,
      requested: 4,
      completed: 3,
      awaitingApproval: 1,
      done: true,
    });
    for (const name of names) {
      const status = await waitForStatus(
        rotor.client,
        `secret/${bulkTenant}/${name}`,
        (s) => s.rotationsCompleted === 2,
      );
      expect(status.currentVersion).toBe(2);
    }
  });

  it('will not let a tenant bulk-rotate or watch another tenant’s batch', async () => {
    const other = uniqueName('other');
    const res = await fetch(`${apiUrl}/api/v1/rotations/bulk`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId: other, reason: 'x' }),
    });
    expect(res.status).toBe(404);
    // An operator's batch for another tenant is invisible to this tenant's token.
    const operator = (await createToken(rotor.clients.db, { name: 'op@ops', role: Role.Operator }))
      .token;
    const started = await fetch(`${apiUrl}/api/v1/rotations/bulk`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId: other, reason: 'x' }),
    });
    expect(started.status).toBe(202);
    const { batchId } = (await started.json()) as { batchId: string };
    const watch = (token: string) =>
      fetch(`${apiUrl}/api/v1/rotations/bulk/${batchId}`, {
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await watch(operator)).status).toBe(200);
    expect((await watch(tokens.owner ?? '')).status).toBe(404);
  });
});
