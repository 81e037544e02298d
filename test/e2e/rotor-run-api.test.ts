import { execFile } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { createToken } from '../../api/auth/tokens';
import { REPO_ROOT } from '../../devstack/paths';
import { Role } from '../../domain';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('rotor run --via-api: secrets read through the audited value API', () => {
  let rotor: TestRotor;
  let app: FastifyInstance;
  let apiUrl = '';
  let token = '';
  const tenant = uniqueName('runapi');

  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    app = buildApp({
      checks: {},
      logLevel: 'silent',
      services: {
        db: rotor.clients.db,
        temporal: rotor.client,
        config: rotor.config,
        vault: rotor.clients.vault,
      },
    });
    apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    await rotor.clients.db.insertInto('tenants').values({ id: tenant, name: tenant }).execute();
    token = (
      await createToken(rotor.clients.db, {
        name: 'app@runapi',
        role: Role.Tenant,
        tenantId: tenant,
      })
    ).token;
    for (const [name, allowValueRead] of [
      ['readable', true],
      ['sealed', false],
    ] as const) {
      const res = await fetch(`${apiUrl}/api/v1/secrets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          tenantId: tenant,
          name,
          type: 'api_key',
          policy: { allowValueRead },
        }),
      });
      expect(res.status).toBe(201);
      await waitForStatus(rotor.client, `secret/${tenant}/${name}`, (s) => s.currentVersion === 1);
    }
  });
  afterAll(async () => {
    await app?.close();
    await rotor?.close();
  });

  /** bin/rotor as a user runs it: a Rotor token, and no Vault token at all. */
  const run = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        'bin/rotor',
        args,
        {
          cwd: REPO_ROOT,
          env: { PATH: process.env.PATH, ROTOR_API_URL: apiUrl, ROTOR_TOKEN: token },
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const valueOf = async (name: string): Promise<string> =>
    String((await rotor.clients.vault.read(`rotor/${tenant}/${name}`))?.data.value);

  it('passes the current value to the command, audits the read with the reason, and prints no value', async () => {
    const value = await valueOf('readable');
    const check = `process.exit(process.env.KEY === ${JSON.stringify(value)} ? 7 : 1)`;
    const result = await run(
      'run',
      '--via-api',
      '--reason',
      'deploy 42',
      '--env',
      `KEY=${tenant}/readable`,
      '--',
      'node',
      '-e',
      check,
    );
    expect(result.code, result.stderr).toBe(7);
    expect(result.stdout + result.stderr).not.toContain(value);
    const audits = await rotor.clients.db
      .selectFrom('audit_events')
      .select(['action', 'outcome', 'details'])
      .where('tenant_id', '=', tenant)
      .where('action', '=', 'secret.value_read')
      .execute();
    expect(audits).toHaveLength(1);
    expect(audits[0]?.outcome).toBe('success');
    expect(JSON.stringify(audits[0]?.details)).toContain('deploy 42');
  });

  it('exits 2 without starting the command when the policy does not allow value reads, or no reason is given', async () => {
    const sealed = await run(
      'run',
      '--via-api',
      '--reason',
      'try',
      '--env',
      `KEY=${tenant}/sealed`,
      '--',
      'node',
      '-e',
      'console.log("child started")',
    );
    expect(sealed.code).toBe(2);
    expect(sealed.stdout).not.toContain('child started');
    expect(sealed.stderr).toContain(`${tenant}/sealed`);
    expect(sealed.stderr).toContain('ROT_ERR_VALUE_READ_DISABLED');
    const noReason = await run('run', '--via-api', '--env', `KEY=${tenant}/readable`, '--', 'true');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason');
  });
});
