import { X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { createToken } from '../../api/auth/tokens';
import { freePort } from '../../devstack';
import { Role } from '../../domain';
import { waitForStatus } from '../helpers/lifecycle';
import { pollUntil } from '../helpers/poll';
import { SmtpSink } from '../helpers/smtp-sink';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';
import { selfSignedCertificate } from '../helpers/tls';

describe('owner-supplied secrets (TLS certificates, OAuth client secrets)', () => {
  let rotor: TestRotor;
  let app: FastifyInstance;
  let smtp: SmtpSink;
  const tenantId = uniqueName('supply');
  let token = '';

  beforeAll(async () => {
    smtp = new SmtpSink(await freePort());
    await smtp.start();
    rotor = await createTestRotor(
      testConfig({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, ROTOR_NOTIFY_DIGEST_SECONDS: '1' }),
    );
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
    await rotor.clients.db
      .insertInto('tenants')
      .values({
        id: tenantId,
        name: tenantId,
        notification_settings: JSON.stringify({ emails: [`owner@${tenantId}.example`] }),
      })
      .execute();
    token = (await createToken(rotor.clients.db, { name: 'owner', role: Role.Tenant, tenantId }))
      .token;
  });
  afterAll(async () => {
    await app?.close();
    await rotor?.close();
    await smtp?.stop();
  });

  const post = (url: string, payload: unknown) =>
    app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}` },
      payload: payload as Record<string, unknown>,
    });
  const auditActions = async (workflowId: string) =>
    (
      await rotor.clients.db
        .selectFrom('audit_events')
        .innerJoin('secrets', 'secrets.id', 'audit_events.secret_id')
        .select('audit_events.action')
        .where('secrets.workflow_id', '=', workflowId)
        .execute()
    ).map((r) => r.action);

  it('asks the owner for a certificate, reminds them, marks it OVERDUE, then accepts only a valid one and schedules by its expiry', async () => {
    const name = 'edge-cert';
    const workflowId = `secret/${tenantId}/${name}`;
    const created = await post('/api/v1/secrets', {
      tenantId,
      name,
      type: 'tls_certificate',
      policy: {
        supply: { remindEverySeconds: 1, deadlineSeconds: 3, expiryLeadSeconds: 86_400 },
      },
    });
    expect(created.statusCode).toBe(201);
    await waitForStatus(rotor.client, workflowId, (s) => s.state === 'AWAITING_VALUE');
    const overdue = await waitForStatus(rotor.client, workflowId, (s) => s.state === 'OVERDUE');
    expect(overdue.pendingSupply?.overdue).toBe(true);
    expect(overdue.currentVersion).toBeNull();
    const row = await pollUntil(
      'the secret row to say OVERDUE',
      () =>
        rotor.clients.db
          .selectFrom('secrets')
          .select('state')
          .where('workflow_id', '=', workflowId)
          .executeTakeFirstOrThrow(),
      (r) => r.state === 'OVERDUE',
    );
    expect(row.state).toBe('OVERDUE');
    const actions = await auditActions(workflowId);
    expect(actions).toContain('value.requested');
    expect(actions).toContain('value.reminded');
    expect(actions).toContain('value.overdue');

    const good = selfSignedCertificate(90);
    const other = selfSignedCertificate(90, 'other.test');
    const url = `/api/v1/secrets/${tenantId}/${name}/supply`;

    const garbage = await post(url, { value: 'not a certificate', privateKey: good.key });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json()).toMatchObject({
      error: { code: 'ROT_ERR_VALIDATION', issues: [{ field: 'value' }] },
    });
    const mismatched = await post(url, { value: good.cert, privateKey: other.key });
    expect(mismatched.statusCode).toBe(400);
    expect(mismatched.json()).toMatchObject({
      error: { code: 'ROT_ERR_VALIDATION', issues: [{ field: 'privateKey' }] },
    });
    expect(mismatched.body).not.toContain(good.cert.slice(30, 80));
    expect(mismatched.body).not.toContain(other.key.slice(40, 80));
    const keyless = await post(url, { value: good.cert });
    expect(keyless.json()).toMatchObject({ error: { issues: [{ field: 'privateKey' }] } });

    const accepted = await post(url, { value: good.cert, privateKey: good.key });
    expect(accepted.statusCode).toBe(202);
    const expiresAt = new Date(new X509Certificate(good.cert).validTo).toISOString();
    expect(accepted.json()).toMatchObject({ accepted: true, version: 1, expiresAt });

    const active = await waitForStatus(rotor.client, workflowId, (s) => s.state === 'ACTIVE');
    expect(active.currentVersion).toBe(1);
    expect(active.pendingSupply).toBeNull();
    // Renewal is due a lead time (here one day) before the certificate expires.
    expect(active.nextRotationAt).toBe(new Date(Date.parse(expiresAt) - 86_400_000).toISOString());
    const stored = await rotor.clients.vault.read(`rotor/${tenantId}/${name}`, 1);
    expect(stored?.data).toMatchObject({ value: good.cert, private_key: good.key });

    // Nothing is waiting any more: a second value is refused, and nothing is written.
    const late = await post(url, { value: good.cert, privateKey: good.key });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ error: { code: 'ROT_ERR_NOT_AWAITING_VALUE' } });
    expect((await rotor.clients.vault.metadata(`rotor/${tenantId}/${name}`)).latestVersion).toBe(1);

    // The owner was told, reminded and warned, and no message carries the certificate or key.
    await expect
      .poll(
        () =>
          smtp
            .to(`owner@${tenantId}.example`)
            .map((m) => m.text ?? '')
            .join('\n'),
        {
          timeout: 60_000,
          interval: 250,
        },
      )
      .toMatch(/Overdue/);
    const mail = JSON.stringify(smtp.to(`owner@${tenantId}.example`).map((m) => [m.text, m.html]));
    expect(mail).toMatch(/needs a new value/);
    expect(mail).toMatch(/Reminder/);
    for (const secret of [good.cert, good.key]) {
      for (const line of secret.split('\n').filter((l) => l.length > 20)) {
        expect(mail).not.toContain(line);
      }
    }
  });

  it('rotates an OAuth client secret by asking again, keeping the previous one through grace', async () => {
    const name = 'github-oauth';
    const workflowId = `secret/${tenantId}/${name}`;
    const created = await post('/api/v1/secrets', {
      tenantId,
      name,
      type: 'oauth_client_secret',
      policy: { requiresApproval: false, graceSeconds: 2 },
    });
    expect(created.statusCode).toBe(201);
    await waitForStatus(rotor.client, workflowId, (s) => s.state === 'AWAITING_VALUE');
    const url = `/api/v1/secrets/${tenantId}/${name}/supply`;
    const withKey = await post(url, { value: 'oauth-secret-one', privateKey: 'x' });
    expect(withKey.json()).toMatchObject({ error: { issues: [{ field: 'privateKey' }] } });
    expect((await post(url, { value: 'oauth-secret-one' })).statusCode).toBe(202);
    await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 1);

    const rotated = await post(`/api/v1/secrets/${tenantId}/${name}/rotate`, {
      reason: 'yearly',
    });
    expect(rotated.statusCode).toBe(202);
    await waitForStatus(rotor.client, workflowId, (s) => s.state === 'AWAITING_VALUE');
    expect((await post(url, { value: 'oauth-secret-two' })).json()).toMatchObject({ version: 2 });
    await waitForStatus(
      rotor.client,
      workflowId,
      (s) => s.currentVersion === 2 && s.previousVersion === 1,
    );
    const path = `rotor/${tenantId}/${name}`;
    expect((await rotor.clients.vault.read(path, 1))?.data.value).toBe('oauth-secret-one');
    await waitForStatus(rotor.client, workflowId, (s) => s.previousVersion === null);
    expect(await rotor.clients.vault.read(path, 1)).toBeUndefined();
    const history = JSON.stringify(
      await rotor.client.workflow.getHandle(workflowId).fetchHistory(),
    );
    expect(history).not.toContain('oauth-secret-one');
    expect(history).not.toContain('oauth-secret-two');
    expect(history).not.toContain(Buffer.from('oauth-secret-two').toString('base64'));
  });
});
