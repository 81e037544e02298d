import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookEndpoint } from '../../webhooks';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, testConfig } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';
import { WebhookReceiver } from '../helpers/webhook-receiver';

interface Refusal {
  error: { code: string; issues: { field: string; message: string }[] };
}

/**
 * ROTOR_WEBHOOK_ALLOWED_NETWORKS unset: a tenant may not make Rotor POST into its own host or
 * network. A real receiver listens on loopback throughout, and must receive nothing.
 */
describe('webhooks with internal addresses not allowed', () => {
  let rotor: TestRotor;
  let api: TestApi;
  const receiver = new WebhookReceiver();
  let port = 0;
  beforeAll(async () => {
    port = Number(new URL(await receiver.start()).port);
    rotor = await createTestRotor(testConfig({ ROTOR_NOTIFY_DIGEST_SECONDS: '1' }));
    expect(rotor.config.notifications.webhookAllowedNetworks).toEqual([]);
    await rotor.startWorker();
    api = await createTestApi(rotor);
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
    await receiver.stop();
  });

  const hooks = (tenant: string) => `/api/v1/tenants/${tenant}/webhooks`;

  /** An endpoint row written past the API's check, as one registered before it existed would be. */
  const legacyEndpoint = async (tenantId: string, url: string) =>
    (
      await createWebhookEndpoint(rotor.clients.db, rotor.clients.vault, {
        tenantId,
        url,
        events: ['rotation.completed'],
        enabled: true,
        by: 'test',
      })
    ).endpoint.id;

  const rowsOf = (endpointId: string) =>
    rotor.clients.db
      .selectFrom('notification_deliveries')
      .select(['status', 'attempt', 'http_status', 'error'])
      .where('endpoint_id', '=', endpointId)
      .orderBy('id')
      .execute();

  it('refuses to register a loopback, metadata or private address, or localhost, with a coded 400 naming url and the setting, never the URL', async () => {
    for (const url of [
      `http://localhost:${port}/hooks/rotor`,
      `http://app.localhost:${port}/hooks/rotor`,
      `http://127.0.0.1:${port}/hooks/rotor`,
      `http://[::1]:${port}/hooks/rotor`,
      `http://[::ffff:127.0.0.1]:${port}/hooks/rotor`,
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'http://10.0.0.7/hooks/rotor',
      'http://192.168.1.10/hooks/rotor',
    ]) {
      const res = await api.call(api.tokens.a, 'POST', hooks(api.tenantA), { url });
      expect(res.statusCode, url).toBe(400);
      const body = res.json<Refusal>();
      expect(body.error.code).toBe('ROT_ERR_VALIDATION');
      expect(body.error.issues.map((i) => i.field)).toEqual(['body.url']);
      expect(body.error.issues[0]?.message).toContain('ROTOR_WEBHOOK_ALLOWED_NETWORKS');
      expect(res.body).not.toContain('/hooks/rotor');
      expect(res.body).not.toContain('meta-data');
    }
    const list = await api.call(api.tokens.a, 'GET', hooks(api.tenantA));
    expect(list.json<{ endpoints: unknown[] }>().endpoints).toEqual([]);
    expect(receiver.received).toEqual([]);
  });

  it('registers a hostname without resolving it (this one never resolves): deliveries check it when they connect', async () => {
    const res = await api.call(api.tokens.a, 'POST', hooks(api.tenantA), {
      url: 'https://hooks.acme.invalid/rotor',
    });
    expect(res.statusCode, res.body).toBe(201);
    const { id } = res.json<{ id: string }>();
    expect((await api.call(api.tokens.a, 'DELETE', `${hooks(api.tenantA)}/${id}`)).statusCode).toBe(
      200,
    );
  });

  it('answers a test event to an endpoint whose name resolves to loopback with delivered: false and BLOCKED_ADDRESS, recorded as failed, sending nothing', async () => {
    for (const url of [
      `http://localhost:${port}/hooks/rotor`,
      `http://127.0.0.1:${port}/hooks/rotor`,
    ]) {
      const id = await legacyEndpoint(api.tenantA, url);
      const res = await api.call(api.tokens.a, 'POST', `${hooks(api.tenantA)}/${id}/test`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        delivered: false,
        httpStatus: null,
        error: 'BLOCKED_ADDRESS',
      });
      expect(res.body).not.toContain('/hooks/rotor');
      expect(await rowsOf(id)).toEqual([
        { status: 'failed', attempt: 1, http_status: null, error: 'BLOCKED_ADDRESS' },
      ]);
    }
    expect(receiver.received).toEqual([]);
  });

  it('fails a worker delivery to a name that resolves to loopback at once, as one failed BLOCKED_ADDRESS row, without retrying, sending nothing', async () => {
    const id = await legacyEndpoint(api.tenantB, `http://localhost:${port}/hooks/rotor`);
    // The first version's creation is a rotation.completed: the endpoint wants it.
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId: api.tenantB,
      name: 'blocked-key',
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    await expect
      .poll(() => rowsOf(id), { timeout: 60_000, interval: 250 })
      .toEqual([{ status: 'failed', attempt: 1, http_status: null, error: 'BLOCKED_ADDRESS' }]);

    // The deliveries workflow ended: no attempt is still waiting on a retry timer.
    const digest = await rotor.clients.db
      .selectFrom('notification_outbox')
      .select('digest_id')
      .where('tenant_id', '=', api.tenantB)
      .where(
        sql<boolean>`event @> ${JSON.stringify({ kind: 'rotation.completed', secretName: 'blocked-key' })}::jsonb`,
      )
      .executeTakeFirstOrThrow();
    if (!digest.digest_id) throw new Error('the event was delivered without a digest');
    const deliveries = rotor.client.workflow.getHandle(`webhooks/${digest.digest_id}`);
    await expect
      .poll(async () => (await deliveries.describe()).status.name, { timeout: 30_000 })
      .toBe('COMPLETED');
    expect(await rowsOf(id)).toHaveLength(1);
    expect(receiver.received).toEqual([]);
  });
});
