import { randomUUID } from 'node:crypto';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditTrail } from '../../audit';
import { SecretType } from '../../domain';
import { VaultKv } from '../../vault';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('who, from where, on rows the lifecycle writes for an API request', () => {
  let rotor: TestRotor;
  let api: TestApi;
  const deniedQueue = `denied-${randomUUID()}`;
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    // A worker whose Vault token Vault does not know: every rotation on it fails at stage.
    const { addr, kvMount } = rotor.config.vault;
    await rotor.startWorker({
      taskQueue: deniedQueue,
      deps: {
        vault: new VaultKv(
          nodeVault({ apiVersion: 'v1', endpoint: addr, token: 'not-a-real-token' }),
          kvMount,
        ),
      },
    });
    api = await createTestApi(rotor);
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  /** A POST as `token` from `ip` with `userAgent`, as a real client would send it. */
  const post = (token: string, url: string, payload: unknown, ip: string, userAgent: string) =>
    api.app.inject({
      method: 'POST',
      url,
      remoteAddress: ip,
      headers: { authorization: `Bearer ${token}`, 'user-agent': userAgent },
      payload: payload as Record<string, unknown>,
    });

  const rows = (tenantId: string) =>
    rotor.clients.db
      .selectFrom('audit_events')
      .select(['action', 'actor', 'rotation_id', 'client_ip', 'user_agent'])
      .where('tenant_id', '=', tenantId)
      .orderBy('chain_seq')
      .execute();

  /** One secret's rows, oldest first. */
  const rowsOf = (tenantId: string, name: string) =>
    rotor.clients.db
      .selectFrom('audit_events')
      .innerJoin('secrets', 'secrets.id', 'audit_events.secret_id')
      .select([
        'audit_events.action',
        'audit_events.actor',
        'audit_events.rotation_id',
        'audit_events.client_ip',
        'audit_events.user_agent',
      ])
      .where('audit_events.tenant_id', '=', tenantId)
      .where('secrets.name', '=', name)
      .orderBy('audit_events.chain_seq')
      .execute();

  /** Polls until the secret has a row `action` with that user agent; returns the row. */
  const rowBy = async (tenantId: string, name: string, action: string, userAgent: string) => {
    await expect
      .poll(
        async () =>
          (await rowsOf(tenantId, name)).some(
            (r) => r.action === action && r.user_agent === userAgent,
          ),
        { timeout: 30_000 },
      )
      .toBe(true);
    return (await rowsOf(tenantId, name)).find(
      (r) => r.action === action && r.user_agent === userAgent,
    );
  };

  it('carries the rotate-now caller’s IP and user agent to rotation.requested and approval.requested, and the approver’s to approval.approved, while Rotor’s own steps carry none', async () => {
    const tenantId = api.tenantA;
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'orders-db',
      type: SecretType.DatabasePassword,
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');

    const base = `/api/v1/secrets/${tenantId}/orders-db`;
    const asked = await post(
      api.tokens.operator,
      `${base}/rotate`,
      { reason: 'quarterly' },
      '192.0.2.10',
      'ops-cli/2.0',
    );
    expect(asked.statusCode).toBe(202);
    const { rotationId } = asked.json<{ rotationId: string }>();
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'AWAITING_APPROVAL');

    const approved = await post(
      api.tokens.security,
      `${base}/approve`,
      { rotationId },
      '192.0.2.20',
      'security-console/1.1',
    );
    expect(approved.statusCode).toBe(200);
    await waitForStatus(
      rotor.client,
      handle.workflowId,
      // The secret's first version counts as its first rotation; this one is the second.
      (s) => s.rotationsCompleted >= 2 && !s.rotationId,
    );

    const trail = await rows(tenantId);
    // This rotation's rows (the secret's first version was a rotation of its own).
    const byAction = (action: string) =>
      trail.find((r) => r.action === action && r.rotation_id === rotationId);
    expect(byAction('rotation.requested')).toMatchObject({
      client_ip: '192.0.2.10',
      user_agent: 'ops-cli/2.0',
    });
    expect(byAction('approval.requested')).toMatchObject({
      client_ip: '192.0.2.10',
      user_agent: 'ops-cli/2.0',
    });
    expect(byAction('approval.approved')).toMatchObject({
      client_ip: '192.0.2.20',
      user_agent: 'security-console/1.1',
    });
    // The steps Rotor ran for this rotation were asked for by the rotate-now caller.
    for (const action of ['rotation.staged', 'rotation.promoted', 'rotation.completed'])
      expect(byAction(action), action).toMatchObject({
        client_ip: '192.0.2.10',
        user_agent: 'ops-cli/2.0',
      });
    // What Rotor did on its own (registering and the first version, started outside the API)
    // has no caller.
    const own = trail.filter((r) => r.actor === 'rotor' && r.rotation_id !== rotationId);
    expect(own.length).toBeGreaterThan(0);
    for (const r of own) expect(r, r.action).toMatchObject({ client_ip: null, user_agent: null });
    expect((await verifyAuditTrail(rotor.clients.db, { tenantId })).ok).toBe(true);
  });

  it('carries the caller of a policy change to the policy.updated row the lifecycle writes', async () => {
    const tenantId = api.tenantA;
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'web-key',
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    const res = await api.app.inject({
      method: 'PUT',
      url: `/api/v1/secrets/${tenantId}/web-key/policy`,
      remoteAddress: '192.0.2.40',
      headers: { authorization: `Bearer ${api.tokens.operator}`, 'user-agent': 'terraform/1.9' },
      payload: { intervalSeconds: 86_400 },
    });
    expect(res.statusCode).toBe(202);
    await expect
      .poll(
        async () =>
          (await rows(tenantId)).find(
            (r) => r.action === 'policy.updated' && r.user_agent === 'terraform/1.9',
          ),
        { timeout: 30_000 },
      )
      .toMatchObject({ client_ip: '192.0.2.40' });
  });

  it('records the caller on a refused approval, which the workflow never sees', async () => {
    const tenantId = api.tenantB;
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'billing-db',
      type: SecretType.DatabasePassword,
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    const refused = await post(
      api.tokens.security,
      `/api/v1/secrets/${tenantId}/billing-db/approve`,
      { rotationId: '00000000-0000-4000-8000-000000000000' },
      '192.0.2.30',
      'security-console/1.1',
    );
    expect(refused.statusCode).toBe(409);
    expect((await rows(tenantId)).find((r) => r.action === 'approval.refused')).toMatchObject({
      client_ip: '192.0.2.30',
      user_agent: 'security-console/1.1',
    });
  });

  it('carries the creator’s IP and user agent to every row provisioning writes, for a generated and for an imported first version', async () => {
    const tenantId = api.tenantA;
    const creator = { ip: '192.0.2.50', ua: 'terraform-provider-rotor/0.3' };
    const generated = await post(
      api.tokens.operator,
      '/api/v1/secrets',
      { tenantId, name: 'signing-key', type: 'jwt_secret' },
      creator.ip,
      creator.ua,
    );
    expect(generated.statusCode).toBe(201);
    const imported = await post(
      api.tokens.operator,
      '/api/v1/secrets',
      {
        tenantId,
        name: 'legacy-key',
        type: 'jwt_secret',
        initialValue: 'an-existing-jwt-secret-of-forty-chars-x1',
      },
      creator.ip,
      creator.ua,
    );
    expect(imported.statusCode).toBe(201);
    for (const name of ['signing-key', 'legacy-key']) {
      await waitForStatus(
        rotor.client,
        `secret/${tenantId}/${name}`,
        (s) => s.rotationsCompleted >= 1 && !s.rotationId,
      );
    }

    const expected = ['secret.registered', 'rotation.requested', 'rotation.promoted'];
    for (const name of ['signing-key', 'legacy-key']) {
      const trail = await rowsOf(tenantId, name);
      const actions = trail.map((r) => r.action);
      for (const action of [...expected, 'rotation.completed'])
        expect(actions, `${name} ${action}`).toContain(action);
      // Every row of the secret so far was caused by the create request.
      for (const r of trail)
        expect(r, `${name} ${r.action}`).toMatchObject({
          client_ip: creator.ip,
          user_agent: creator.ua,
        });
    }
    // A generated first version is staged by Rotor, and that row has the creator too.
    expect((await rowsOf(tenantId, 'signing-key')).map((r) => r.action)).toContain(
      'rotation.staged',
    );
    expect((await verifyAuditTrail(rotor.clients.db, { tenantId })).ok).toBe(true);
  });

  it('carries the bulk caller’s IP and user agent to each rotation the batch asks for', async () => {
    const tenantId = uniqueName('tenant-bulk');
    await rotor.clients.db.insertInto('tenants').values({ id: tenantId, name: tenantId }).execute();
    const names = ['bulk-one', 'bulk-two'];
    for (const name of names) {
      const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
        tenantId,
        name,
      });
      await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    }
    const res = await post(
      api.tokens.operator,
      '/api/v1/rotations/bulk',
      { tenantId, reason: 'key compromise drill' },
      '192.0.2.60',
      'ops-cli/2.0 bulk',
    );
    expect(res.statusCode).toBe(202);
    for (const name of names) {
      const requested = await rowBy(tenantId, name, 'rotation.requested', 'ops-cli/2.0 bulk');
      expect(requested).toMatchObject({ client_ip: '192.0.2.60' });
      // The batch's rotation, not the first version's, which was started outside the API.
      expect(requested?.rotation_id).toBeTruthy();
      const completed = await rowBy(tenantId, name, 'rotation.completed', 'ops-cli/2.0 bulk');
      expect(completed).toMatchObject({
        client_ip: '192.0.2.60',
        rotation_id: requested?.rotation_id,
      });
    }
  });

  it('carries the caller of pause and of resume to the secret.paused and secret.resumed rows the lifecycle writes', async () => {
    const tenantId = api.tenantB;
    const name = 'paused-key';
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name,
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    const base = `/api/v1/secrets/${tenantId}/${name}`;
    const paused = await post(
      api.tokens.operator,
      `${base}/pause`,
      { reason: 'migration' },
      '192.0.2.70',
      'ops-cli/2.0 pause',
    );
    expect(paused.statusCode).toBe(202);
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'PAUSED');
    expect(await rowBy(tenantId, name, 'secret.paused', 'ops-cli/2.0 pause')).toMatchObject({
      actor: 'api',
      client_ip: '192.0.2.70',
    });

    const resumed = await post(
      api.tokens.operator,
      `${base}/resume`,
      { reason: 'migration done' },
      '192.0.2.71',
      'ops-cli/2.0 resume',
    );
    expect(resumed.statusCode).toBe(202);
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    expect(await rowBy(tenantId, name, 'secret.resumed', 'ops-cli/2.0 resume')).toMatchObject({
      actor: 'api',
      client_ip: '192.0.2.71',
    });
  });

  it('carries the rotate-now caller to every row its rotation writes, while the rows of a rotation no API call asked for carry none', async () => {
    const tenantId = api.tenantB;
    const name = 'rotated-key';
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name,
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    const asked = await post(
      api.tokens.operator,
      `/api/v1/secrets/${tenantId}/${name}/rotate`,
      { reason: 'leaked in a log' },
      '192.0.2.80',
      'ops-cli/2.0 rotate',
    );
    expect(asked.statusCode).toBe(202);
    const { rotationId } = asked.json<{ rotationId: string }>();
    await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.rotationsCompleted >= 2 && !s.rotationId,
    );

    const trail = await rowsOf(tenantId, name);
    const ofRotation = trail.filter((r) => r.rotation_id === rotationId);
    expect(ofRotation.map((r) => r.action)).toEqual(
      expect.arrayContaining([
        'rotation.requested',
        'rotation.staged',
        'rotation.promoted',
        'rotation.completed',
      ]),
    );
    for (const r of ofRotation)
      expect(r, r.action).toMatchObject({
        client_ip: '192.0.2.80',
        user_agent: 'ops-cli/2.0 rotate',
      });
    // The first version was rotated because the lifecycle started (not through the API).
    const first = trail.filter((r) => r.rotation_id !== null && r.rotation_id !== rotationId);
    expect(first.map((r) => r.action)).toContain('rotation.promoted');
    for (const r of first) expect(r, r.action).toMatchObject({ client_ip: null, user_agent: null });
    expect((await verifyAuditTrail(rotor.clients.db, { tenantId })).ok).toBe(true);
  });

  it('carries the caller of supply to the value.supplied row', async () => {
    const tenantId = api.tenantA;
    const name = 'partner-oauth';
    const created = await post(
      api.tokens.operator,
      '/api/v1/secrets',
      { tenantId, name, type: 'oauth_client_secret', policy: { requiresApproval: false } },
      '192.0.2.90',
      'ops-cli/2.0 create',
    );
    expect(created.statusCode).toBe(201);
    const workflowId = `secret/${tenantId}/${name}`;
    await waitForStatus(rotor.client, workflowId, (s) => s.state === 'AWAITING_VALUE');
    const supplied = await post(
      api.tokens.a,
      `/api/v1/secrets/${tenantId}/${name}/supply`,
      { value: 'partner-oauth-client-secret-1' },
      '192.0.2.91',
      'owner-portal/5.0',
    );
    expect(supplied.statusCode).toBe(202);
    expect(await rowBy(tenantId, name, 'value.supplied', 'owner-portal/5.0')).toMatchObject({
      client_ip: '192.0.2.91',
    });
    // The value was asked for because of the create request.
    expect(await rowBy(tenantId, name, 'value.requested', 'ops-cli/2.0 create')).toMatchObject({
      client_ip: '192.0.2.90',
    });
    await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 1);
  });

  it('carries the caller of a retry to the rows of the rotation it asks for when that one fails too', async () => {
    const tenantId = api.tenantB;
    const name = 'denied-key';
    const handle = await startSecret(rotor.client, deniedQueue, { tenantId, name });
    await expect
      .poll(async () => (await rowsOf(tenantId, name)).map((r) => r.action), { timeout: 30_000 })
      .toContain('rotation.failed');
    const retried = await post(
      api.tokens.operator,
      `/api/v1/secrets/${tenantId}/${name}/retry`,
      { reason: 'vault token fixed' },
      '192.0.2.95',
      'ops-cli/2.0 retry',
    );
    expect(retried.statusCode).toBe(202);
    const failed = await rowBy(tenantId, name, 'rotation.failed', 'ops-cli/2.0 retry');
    expect(failed).toMatchObject({ client_ip: '192.0.2.95' });
    const ofRetry = (await rowsOf(tenantId, name)).filter(
      (r) => r.rotation_id === failed?.rotation_id,
    );
    expect(ofRetry.map((r) => r.action)).toEqual(['rotation.requested', 'rotation.failed']);
    for (const r of ofRetry)
      expect(r, r.action).toMatchObject({
        client_ip: '192.0.2.95',
        user_agent: 'ops-cli/2.0 retry',
      });
    // The first version's failure was Rotor's own: no API call asked for it.
    const first = (await rowsOf(tenantId, name)).find(
      (r) => r.action === 'rotation.failed' && r.rotation_id !== failed?.rotation_id,
    );
    expect(first).toMatchObject({ client_ip: null, user_agent: null });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'NEEDS_ATTENTION');
  });

  it('carries the rotate-now caller to the row of a rotation that waits for the maintenance window', async () => {
    const tenantId = api.tenantA;
    const name = 'windowed-key';
    // Open one hour, on a day that is not today: a rotation asked for the window waits.
    const day = (new Date().getUTCDay() + 3) % 7;
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name,
      policy: { maintenanceWindow: { timeZone: 'UTC', days: [day], start: '01:00', end: '02:00' } },
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    const asked = await post(
      api.tokens.operator,
      `/api/v1/secrets/${tenantId}/${name}/rotate`,
      { reason: 'in the window', start: 'window' },
      '192.0.2.99',
      'ops-cli/2.0 window',
    );
    expect(asked.statusCode).toBe(202);
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'AWAITING_WINDOW');
    const waiting = await rowBy(tenantId, name, 'rotation.awaiting_window', 'ops-cli/2.0 window');
    expect(waiting).toMatchObject({
      client_ip: '192.0.2.99',
      rotation_id: asked.json<{ rotationId: string }>().rotationId,
    });
  });
});
