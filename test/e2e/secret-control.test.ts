import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../api/auth/tokens';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { runCli } from '../helpers/cli';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestRotor } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';
import { FlakyReadVault } from '../helpers/flaky-read-vault';

interface ControlAudit {
  actor: string;
  action: string;
  outcome: string;
  details: Record<string, unknown>;
}

describe('pause, resume and retry: the operator’s way back, from the API and the CLI', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let flaky: FlakyReadVault;
  let url = '';
  let t = '';
  const subjects: Record<string, string> = {};
  beforeAll(async () => {
    rotor = await createTestRotor();
    const { addr, kvMount, token } = rotor.config.vault;
    flaky = new FlakyReadVault(nodeVault({ apiVersion: 'v1', endpoint: addr, token }), kvMount);
    await rotor.startWorker({ deps: { vault: flaky } });
    api = await createTestApi(rotor);
    url = await api.app.listen({ host: '127.0.0.1', port: 0 });
    t = api.tenantA;
    for (const [role, tok] of Object.entries(api.tokens)) {
      const row = await rotor.clients.db
        .selectFrom('api_tokens')
        .select('subject')
        .where('token_hash', '=', hashToken(tok))
        .executeTakeFirstOrThrow();
      subjects[role] = row.subject;
    }
    for (const name of ['svc', 'gone']) {
      const created = await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
        tenantId: t,
        name,
        type: 'api_key',
        policy: { maxAttempts: 2, graceSeconds: 1 },
      });
      expect(created.statusCode, created.body).toBe(201);
    }
    for (const name of ['svc', 'gone'])
      await waitForStatus(
        rotor.client,
        `secret/${t}/${name}`,
        (s) => s.state === 'ACTIVE' && !s.rotationId,
      );
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  const control = (
    token: string | undefined,
    action: string,
    name = 'svc',
    body: unknown = { reason: 'r' },
  ) => api.call(token, 'POST', `/api/v1/secrets/${t}/${name}/${action}`, body);
  const audits = (name: string): Promise<ControlAudit[]> =>
    rotor.clients.db
      .selectFrom('audit_events')
      .innerJoin('secrets', 'secrets.id', 'audit_events.secret_id')
      .select([
        'audit_events.actor',
        'audit_events.action',
        'audit_events.outcome',
        'audit_events.details',
      ])
      .where('secrets.tenant_id', '=', t)
      .where('secrets.name', '=', name)
      .where('audit_events.action', 'like', 'secret.%_requested')
      .orderBy('audit_events.id')
      .execute();

  it('pauses and resumes a secret; pausing twice is a no-op; each request is audited with the caller’s subject', async () => {
    const paused = await control(api.tokens.operator, 'pause', 'svc', { reason: 'maintenance' });
    expect(paused.statusCode, paused.body).toBe(202);
    expect(paused.json()).toEqual({ accepted: true, action: 'pause', state: 'ACTIVE' });
    await waitForStatus(rotor.client, `secret/${t}/svc`, (s) => s.state === 'PAUSED');

    const again = await control(api.tokens.a, 'pause', 'svc', { reason: 'still maintenance' });
    expect(again.statusCode, again.body).toBe(202);
    expect(again.json()).toEqual({ accepted: true, action: 'pause', state: 'PAUSED' });

    const resumed = await control(api.tokens.a, 'resume', 'svc', { reason: 'maintenance over' });
    expect(resumed.statusCode, resumed.body).toBe(202);
    expect(resumed.json()).toEqual({ accepted: true, action: 'resume', state: 'PAUSED' });
    const active = await waitForStatus(
      rotor.client,
      `secret/${t}/svc`,
      (s) => s.state === 'ACTIVE',
    );
    expect(active).toMatchObject({ paused: false, rotationsCompleted: 1 });

    const notPaused = await control(api.tokens.admin, 'resume');
    expect(notPaused.statusCode).toBe(409);
    expect(notPaused.json()).toMatchObject({ error: { code: 'ROT_ERR_NOT_PAUSED' } });

    expect(await audits('svc')).toEqual([
      {
        actor: subjects.operator,
        action: 'secret.pause_requested',
        outcome: 'success',
        details: expect.objectContaining({ reason: 'maintenance', role: 'operator' }) as unknown,
      },
      expect.objectContaining({ actor: subjects.a, action: 'secret.pause_requested' }),
      expect.objectContaining({ actor: subjects.a, action: 'secret.resume_requested' }),
      expect.objectContaining({
        actor: subjects.admin,
        action: 'secret.resume_requested',
        outcome: 'refused',
      }),
    ]);
  });

  it('refuses to retry an ACTIVE secret with 409 ROT_ERR_NOT_NEEDS_ATTENTION, and leaves it alone', async () => {
    const res = await control(api.tokens.a, 'retry', 'svc', { reason: 'just in case' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      error: {
        code: 'ROT_ERR_NOT_NEEDS_ATTENTION',
        message: expect.stringContaining('ACTIVE') as unknown,
      },
    });
    const status = await waitForStatus(rotor.client, `secret/${t}/svc`, () => true);
    expect(status).toMatchObject({ state: 'ACTIVE', currentVersion: 1, rotationsCompleted: 1 });
  });

  it('allows admin, operator and the owning tenant only, and checks the reason', async () => {
    const forbidden = await control(api.tokens.security, 'pause');
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ error: { code: 'ROT_ERR_FORBIDDEN' } });
    expect((await control(api.tokens.b, 'pause')).statusCode).toBe(404);
    expect((await control(undefined, 'pause')).statusCode).toBe(401);
    for (const body of [
      {},
      { reason: '   ' },
      { reason: 'x'.repeat(501) },
      { reason: 'a\u0007b' },
    ]) {
      const bad = await control(api.tokens.a, 'pause', 'svc', body);
      expect(bad.statusCode, JSON.stringify(body)).toBe(400);
      expect(bad.json()).toMatchObject({ error: { code: 'ROT_ERR_VALIDATION' } });
      expect(bad.body).not.toContain('\u0007');
    }
    expect((await control(api.tokens.a, 'pause', 'nosuch')).statusCode).toBe(404);
    const status = await waitForStatus(rotor.client, `secret/${t}/svc`, () => true);
    expect(status.paused).toBe(false);
  });

  it('brings a NEEDS_ATTENTION secret back to ACTIVE with a completed rotation: `rotor secrets retry`', async () => {
    flaky.failReads = true;
    const rotate = await api.call(api.tokens.operator, 'POST', `/api/v1/secrets/${t}/svc/rotate`, {
      reason: 'exercise failure',
    });
    expect(rotate.statusCode, rotate.body).toBeLessThan(300);
    const failed = await waitForStatus(
      rotor.client,
      `secret/${t}/svc`,
      (s) => s.state === 'NEEDS_ATTENTION',
    );
    expect(failed.currentVersion).toBe(1);

    flaky.failReads = false;
    const run = await runCli(
      url,
      api.tokens.operator,
      '--json',
      'secrets',
      'retry',
      t,
      'svc',
      '--reason',
      'vault fixed',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      accepted: true,
      action: 'retry',
      state: 'NEEDS_ATTENTION',
    });
    const healed = await waitForStatus(
      rotor.client,
      `secret/${t}/svc`,
      (s) => s.state === 'ACTIVE' && s.rotationsCompleted === 2,
    );
    expect(healed.lastErrorType).toBeNull();
    expect(healed.currentVersion).toBeGreaterThan(1);
    const latest = await rotor.clients.db
      .selectFrom('rotations')
      .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
      .select(['rotations.status', 'rotations.reason', 'rotations.requested_by'])
      .where('secrets.tenant_id', '=', t)
      .where('secrets.name', '=', 'svc')
      .orderBy('rotations.requested_at', 'desc')
      .executeTakeFirstOrThrow();
    expect(latest.status).toBe('COMPLETED');
    expect(latest.reason).toContain('retry: vault fixed');
    expect(latest.requested_by).toBe(subjects.operator);
    expect((await audits('svc')).at(-1)).toMatchObject({
      actor: subjects.operator,
      action: 'secret.retry_requested',
      outcome: 'success',
      details: { reason: 'vault fixed', state: 'NEEDS_ATTENTION' },
    });

    const again = await runCli(url, api.tokens.a, 'secrets', 'retry', t, 'svc', '--reason', 'x');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('✗ ROT_ERR_NOT_NEEDS_ATTENTION');
  });

  it('pauses and resumes from the CLI, printing the answer as a table or JSON', async () => {
    const pause = await runCli(url, api.tokens.a, 'secrets', 'pause', t, 'svc', '--reason', 'm');
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.stdout).toMatch(/^accepted\s+true$/m);
    expect(pause.stdout).toMatch(/^action\s+pause$/m);
    await waitForStatus(rotor.client, `secret/${t}/svc`, (s) => s.state === 'PAUSED');
    const resume = await runCli(
      url,
      api.tokens.a,
      '--json',
      'secrets',
      'resume',
      t,
      'svc',
      '--reason',
      'done',
    );
    expect(resume.code, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout)).toMatchObject({ action: 'resume', state: 'PAUSED' });
    await waitForStatus(rotor.client, `secret/${t}/svc`, (s) => s.state === 'ACTIVE');
  });

  it('answers 409 ROT_ERR_NOT_RUNNING once the lifecycle has ended', async () => {
    const retire = await control(api.tokens.a, 'retire', 'gone', { reason: 'decommissioned' });
    expect(retire.statusCode, retire.body).toBe(202);
    const handle = rotor.client.workflow.getHandle(`secret/${t}/gone`);
    await expect
      .poll(async () => (await handle.describe()).status.name, { timeout: 30_000 })
      .not.toBe('RUNNING');
    for (const action of ['pause', 'resume', 'retry']) {
      const res = await control(api.tokens.a, action, 'gone');
      expect(res.statusCode, action).toBe(409);
      expect(res.json()).toMatchObject({ error: { code: 'ROT_ERR_NOT_RUNNING' } });
    }
  });
});
