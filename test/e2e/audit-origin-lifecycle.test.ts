import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditTrail } from '../../audit';
import { SecretType } from '../../domain';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { createTestRotor } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('who, from where, on rows the lifecycle writes for an API request', () => {
  let rotor: TestRotor;
  let api: TestApi;
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
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
    // What Rotor did on its own (registering at start, staging, promoting) has no caller.
    const own = trail.filter((r) => r.actor === 'rotor');
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
});
