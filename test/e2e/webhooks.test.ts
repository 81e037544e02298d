import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  WebhookRefusal,
  WebhookVerificationError,
  createWebhookVerifier,
} from '../../consumers/webhooks';
import { freePort } from '../../devstack';
import { secretVaultPath } from '../../domain';
import { rotateNowSignal } from '../../workflows';
import { createTestApi } from '../helpers/api';
import { runCli } from '../helpers/cli';
import type { TestApi } from '../helpers/api';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, testConfig } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';
import { engineTablesAsText } from '../helpers/table-text';
import { WebhookReceiver } from '../helpers/webhook-receiver';
import type { ReceivedWebhook } from '../helpers/webhook-receiver';

interface Created {
  id: string;
  url: string;
  events: string[];
  signingSecret: string;
}

/** Why `verify` refused, or 'accepted'. */
async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'accepted';
  } catch (err) {
    return err instanceof WebhookVerificationError ? err.code : `threw ${String(err)}`;
  }
}

describe('signed webhooks', () => {
  let rotor: TestRotor;
  let api: TestApi;
  const receiver = new WebhookReceiver();
  let receiverUrl = '';
  let apiUrl = '';
  beforeAll(async () => {
    receiverUrl = await receiver.start();
    // The receivers listen on loopback: allowed for this file, and nothing else internal.
    rotor = await createTestRotor(
      testConfig({
        ROTOR_NOTIFY_DIGEST_SECONDS: '1',
        ROTOR_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32',
      }),
    );
    await rotor.startWorker();
    api = await createTestApi(rotor);
    apiUrl = await api.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
    await receiver.stop();
  });

  const hooks = (tenant: string) => `/api/v1/tenants/${tenant}/webhooks`;
  async function createEndpoint(token: string, tenant: string, url: string): Promise<Created> {
    const res = await api.call(token, 'POST', hooks(tenant), { url });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<Created>();
  }

  /** Rotates a fresh secret of `tenant` once and returns its workflow id and current value. */
  async function rotateOnce(tenant: string, name: string): Promise<{ value: string }> {
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId: tenant,
      name,
      policy: { graceSeconds: 3600 },
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'webhook test' });
    await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.rotationsCompleted === 2 && s.currentVersion === 2,
    );
    const read = await rotor.clients.vault.read(secretVaultPath(tenant, name));
    return { value: String(read?.data.value) };
  }

  // The first version's creation is a completed rotation too, and may be delivered (the endpoint
  // exists by then): match the version, not only the name.
  const completedFor = (name: string, version: number) => (): ReceivedWebhook | undefined =>
    receiver.ofType('rotation.completed').find((r) => {
      const { data } = JSON.parse(r.body) as { data: { secretName: string; version: number } };
      return data.secretName === name && data.version === version;
    });

  it('refuses a URL with a non-HTTP scheme, a user:password@, or over the length limit, with a coded 400 naming the field and never echoing it', async () => {
    const refused = [
      'ftp://files.example/hook',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://hookuser:hookpass@receiver.example/hook',
      'not a url',
      `https://receiver.example/${'a'.repeat(2100)}`,
    ];
    for (const url of refused) {
      const res = await api.call(api.tokens.a, 'POST', hooks(api.tenantA), { url });
      expect(res.statusCode, url).toBe(400);
      const body = res.json<{ error: { code: string; issues: { field: string }[] } }>();
      expect(body.error.code).toBe('ROT_ERR_VALIDATION');
      expect(body.error.issues.map((i) => i.field)).toEqual(['body.url']);
      expect(res.body).not.toContain(url.slice(0, 40));
      expect(res.body).not.toContain('hookpass');
    }
    const list = await api.call(api.tokens.a, 'GET', hooks(api.tenantA));
    expect(list.json<{ endpoints: unknown[] }>().endpoints).toEqual([]);
  });

  it('lets only an admin or the tenant itself manage endpoints', async () => {
    for (const token of [api.tokens.operator, api.tokens.security]) {
      const res = await api.call(token, 'POST', hooks(api.tenantA), { url: receiverUrl });
      expect(res.statusCode).toBe(403);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('ROT_ERR_FORBIDDEN');
    }
    const other = await api.call(api.tokens.b, 'GET', hooks(api.tenantA));
    expect(other.statusCode).toBe(404);
  });

  let delivered: ReceivedWebhook | undefined;
  let secretA = '';
  let endpointA = '';

  it('delivers rotation.completed with a valid Standard Webhooks signature, carrying ids and versions but never the value, and records the attempt', async () => {
    const created = await createEndpoint(api.tokens.a, api.tenantA, receiverUrl);
    secretA = created.signingSecret;
    endpointA = created.id;
    expect(secretA).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.events).toEqual([
      'rotation.completed',
      'rotation.failed',
      'rotation.upcoming',
      'credential.revoked',
      'value.needed',
    ]);
    const listed = await api.call(api.tokens.a, 'GET', hooks(api.tenantA));
    expect(listed.body).toContain(created.id);
    expect(listed.body).not.toContain(secretA);

    const { value } = await rotateOnce(api.tenantA, 'orders-key');
    await expect
      .poll(() => completedFor('orders-key', 2)() !== undefined, { timeout: 60_000 })
      .toBe(true);
    delivered = completedFor('orders-key', 2)();
    if (!delivered) throw new Error('no rotation.completed arrived');

    expect(delivered.headers['content-type']).toBe('application/json');
    expect(delivered.headers['webhook-id']).toMatch(/^msg_\d+_[0-9a-f]{32}$/);
    expect(delivered.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    const verifier = createWebhookVerifier({ secret: secretA });
    const event = await verifier.verify(delivered.headers, delivered.body);
    expect(event).toMatchObject({
      type: 'rotation.completed',
      data: {
        tenantId: api.tenantA,
        secretName: 'orders-key',
        secretType: 'api_key',
        version: 2,
        previousVersion: 1,
        workflowId: `secret/${api.tenantA}/orders-key`,
      },
    });
    expect(value.length).toBeGreaterThan(8);
    for (const r of receiver.received) expect(r.body).not.toContain(value);

    // The attempt is recorded once the receiver has answered: poll for it.
    const sentRows = () =>
      rotor.clients.db
        .selectFrom('notification_deliveries')
        .select(['channel', 'status', 'attempt', 'http_status'])
        .where('endpoint_id', '=', endpointA)
        .where('status', '=', 'sent')
        .execute();
    await expect
      .poll(sentRows, { timeout: 30_000 })
      .toContainEqual({ channel: 'webhook', status: 'sent', attempt: 1, http_status: 204 });
    // The signing secret is in Vault only: not in any engine table, nor in the delivery's history.
    for (const { table, text } of await engineTablesAsText(rotor.clients.db)) {
      expect(text, table).not.toContain(secretA.slice('whsec_'.length));
    }
    const outboxRow = await rotor.clients.db
      .selectFrom('notification_outbox')
      .select('digest_id')
      .where('tenant_id', '=', api.tenantA)
      .where(
        sql<boolean>`event @> ${JSON.stringify({ kind: 'rotation.completed', secretName: 'orders-key' })}::jsonb`,
      )
      .executeTakeFirstOrThrow();
    const history = await rotor.client.workflow
      .getHandle(`webhooks/${outboxRow.digest_id}`)
      .fetchHistory();
    const historyText = JSON.stringify(history);
    expect(historyText).toContain('deliverWebhook');
    expect(historyText).not.toContain(secretA.slice('whsec_'.length));
    expect(historyText).not.toContain(value);
  });

  it('has the verify helper refuse a tampered body, a forged timestamp, an old timestamp, the wrong secret and a replay', async () => {
    if (!delivered) throw new Error('needs the delivery of the previous test');
    const { headers, body } = delivered;
    const sentAt = Number(headers['webhook-timestamp']) * 1000;
    const fresh = () => createWebhookVerifier({ secret: secretA, now: () => sentAt });

    const tampered = body.replace('"version":2', '"version":3');
    expect(tampered).not.toBe(body);
    expect(await outcome(() => fresh().verify(headers, tampered))).toBe(
      WebhookRefusal.BadSignature,
    );
    expect(
      await outcome(() =>
        fresh().verify({ ...headers, 'webhook-timestamp': String(sentAt / 1000 + 1) }, body),
      ),
    ).toBe(WebhookRefusal.BadSignature);
    const late = createWebhookVerifier({ secret: secretA, now: () => sentAt + 10 * 60_000 });
    expect(await outcome(() => late.verify(headers, body))).toBe(WebhookRefusal.BadTimestamp);
    const early = createWebhookVerifier({ secret: secretA, now: () => sentAt - 10 * 60_000 });
    expect(await outcome(() => early.verify(headers, body))).toBe(WebhookRefusal.BadTimestamp);
    const wrong = createWebhookVerifier({
      secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
      now: () => sentAt,
    });
    expect(await outcome(() => wrong.verify(headers, body))).toBe(WebhookRefusal.BadSignature);
    const unsigned = { ...headers, 'webhook-signature': undefined };
    expect(await outcome(() => fresh().verify(unsigned, body))).toBe(WebhookRefusal.MissingHeaders);

    const once = fresh();
    expect(await outcome(() => once.verify(headers, body))).toBe('accepted');
    expect(await outcome(() => once.verify(headers, body))).toBe(WebhookRefusal.Replayed);
  });

  it('retries a down endpoint with backoff, recording each attempt, while the rotation completes without waiting for it', async () => {
    const port = await freePort();
    const downUrl = `http://127.0.0.1:${port}/hooks/rotor`;
    const created = await createEndpoint(api.tokens.b, api.tenantB, downUrl);
    // Every row of this endpoint; the secret's first version and its rotation are two messages.
    const attempts = async () =>
      (
        await rotor.clients.db
          .selectFrom('notification_deliveries')
          .select(['idempotency_key', 'status', 'attempt', 'http_status', 'error'])
          .where('endpoint_id', '=', created.id)
          .orderBy('attempt')
          .execute()
      ).map(({ idempotency_key, ...row }) => ({
        ...row,
        message: idempotency_key.split(':')[1] ?? '',
      }));
    const ofFirstMessage = async () => {
      const rows = await attempts();
      return rows.filter((r) => r.message === rows[0]?.message);
    };

    // The rotation finishes while nothing listens on the endpoint's port.
    await rotateOnce(api.tenantB, 'billing-key');
    await expect
      .poll(async () => (await ofFirstMessage()).length, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(2);
    expect((await attempts()).some((a) => a.status === 'sent')).toBe(false);
    expect((await ofFirstMessage()).slice(0, 2)).toEqual([
      expect.objectContaining({
        status: 'retrying',
        attempt: 1,
        http_status: null,
        error: 'ECONNREFUSED',
      }),
      expect.objectContaining({
        status: 'retrying',
        attempt: 2,
        http_status: null,
        error: 'ECONNREFUSED',
      }),
    ]);

    // The receiver comes up on that port: a later attempt gets through, as the same message.
    const late = new WebhookReceiver();
    await late.start(port);
    try {
      await expect
        .poll(async () => (await ofFirstMessage()).find((a) => a.status === 'sent')?.attempt ?? 0, {
          timeout: 90_000,
          interval: 500,
        })
        .toBeGreaterThanOrEqual(3);
      const arrived = late.ofType('rotation.completed');
      expect(arrived.length).toBeGreaterThanOrEqual(1);
      const [first] = arrived;
      if (!first) throw new Error('nothing arrived');
      const event = await createWebhookVerifier({ secret: created.signingSecret }).verify(
        first.headers,
        first.body,
      );
      expect(event.data).toMatchObject({ tenantId: api.tenantB, secretName: 'billing-key' });
    } finally {
      await late.stop();
    }
  });

  it('sends a signed test event on request, and after rotate-secret signs with the new secret and, for a grace period, the old one', async () => {
    const url = `${hooks(api.tenantA)}/${endpointA}`;
    const tested = await api.call(api.tokens.a, 'POST', `${url}/test`);
    expect(tested.statusCode, tested.body).toBe(200);
    expect(tested.json()).toMatchObject({ delivered: true, httpStatus: 204 });
    const webhookId = tested.json<{ webhookId: string }>().webhookId;
    const got = receiver.received.find((r) => r.headers['webhook-id'] === webhookId);
    if (!got) throw new Error('the test event did not arrive');
    expect(
      await createWebhookVerifier({ secret: secretA }).verify(got.headers, got.body),
    ).toMatchObject({
      type: 'webhook.test',
      data: { tenantId: api.tenantA, endpointId: endpointA },
    });

    const rotated = await api.call(api.tokens.a, 'POST', `${url}/rotate-secret`);
    expect(rotated.statusCode, rotated.body).toBe(200);
    const next = rotated.json<{ signingSecret: string; previousValidUntil: string }>();
    expect(next.signingSecret).toMatch(/^whsec_/);
    expect(next.signingSecret).not.toBe(secretA);
    expect(Date.parse(next.previousValidUntil)).toBeGreaterThan(Date.now());

    const again = await api.call(api.tokens.a, 'POST', `${url}/test`);
    const id2 = again.json<{ webhookId: string }>().webhookId;
    const got2 = receiver.received.find((r) => r.headers['webhook-id'] === id2);
    if (!got2) throw new Error('the second test event did not arrive');
    expect(String(got2.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [next.signingSecret, secretA]) {
      expect(
        await outcome(() => createWebhookVerifier({ secret }).verify(got2.headers, got2.body)),
      ).toBe('accepted');
    }
  });

  it('answers a test of an endpoint that refuses with delivered: false and its HTTP status, recorded as failed', async () => {
    receiver.status = 410;
    try {
      const url = `${hooks(api.tenantA)}/${endpointA}`;
      const res = await api.call(api.tokens.a, 'POST', `${url}/test`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ delivered: false, httpStatus: 410, error: 'HTTP 410' });
      const row = await rotor.clients.db
        .selectFrom('notification_deliveries')
        .select(['status', 'http_status'])
        .where(
          'idempotency_key',
          'like',
          `webhook:${res.json<{ webhookId: string }>().webhookId}:%`,
        )
        .executeTakeFirst();
      expect(row).toEqual({ status: 'failed', http_status: 410 });
    } finally {
      receiver.status = 204;
    }
  });

  it('deletes an endpoint together with its signing secret in Vault', async () => {
    const url = `${hooks(api.tenantA)}/${endpointA}`;
    const res = await api.call(api.tokens.a, 'DELETE', url);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ id: endpointA, deleted: true });
    expect(
      await rotor.clients.vault.read(`rotor-webhooks/${api.tenantA}/${endpointA}`),
    ).toBeUndefined();
    const list = await api.call(api.tokens.a, 'GET', hooks(api.tenantA));
    expect(list.json<{ endpoints: unknown[] }>().endpoints).toEqual([]);
    expect((await api.call(api.tokens.a, 'DELETE', url)).statusCode).toBe(404);
  });

  it('does the same from the rotor CLI: create with --json shows the secret once, list never does, test delivers a verifiable event, a bad URL exits with the code', async () => {
    const tenant = api.tenantA;
    const created = await runCli(
      apiUrl,
      api.tokens.a,
      '--json',
      'webhooks',
      'create',
      tenant,
      '--url',
      receiverUrl,
      '--events',
      'rotation.completed,credential.revoked',
    );
    expect(created.code, created.stderr).toBe(0);
    const endpoint = JSON.parse(created.stdout) as Created;
    expect(endpoint.signingSecret).toMatch(/^whsec_/);
    expect(endpoint.events).toEqual(['rotation.completed', 'credential.revoked']);

    const listed = await runCli(apiUrl, api.tokens.a, 'webhooks', 'list', tenant);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(endpoint.id);
    expect(listed.stdout).not.toContain(endpoint.signingSecret);

    const tested = await runCli(
      apiUrl,
      api.tokens.a,
      '--json',
      'webhooks',
      'test',
      tenant,
      endpoint.id,
    );
    expect(tested.code, tested.stderr).toBe(0);
    const { webhookId } = JSON.parse(tested.stdout) as { webhookId: string };
    const got = receiver.received.find((r) => r.headers['webhook-id'] === webhookId);
    if (!got) throw new Error('the CLI test event did not arrive');
    await createWebhookVerifier({ secret: endpoint.signingSecret }).verify(got.headers, got.body);

    const bad = await runCli(
      apiUrl,
      api.tokens.a,
      'webhooks',
      'create',
      tenant,
      '--url',
      'gopher://old.example/x',
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('ROT_ERR_VALIDATION');
    expect(bad.stderr).toContain('url');
    expect(bad.stderr).not.toContain('gopher://old.example');

    const deleted = await runCli(apiUrl, api.tokens.a, 'webhooks', 'delete', tenant, endpoint.id);
    expect(deleted.code, deleted.stderr).toBe(0);
    const after = await api.call(api.tokens.a, 'GET', hooks(tenant));
    expect(after.json<{ endpoints: unknown[] }>().endpoints).toEqual([]);
  });
});
