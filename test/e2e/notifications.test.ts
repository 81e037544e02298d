import { randomUUID } from 'node:crypto';
import nodeVault from 'node-vault';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultKv } from '../../vault';
import { SecretType } from '../../domain';
import { rotateNowSignal } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { RecordingVault, leakForms } from '../helpers/recording-vault';
import { SlackStub } from '../helpers/slack-stub';
import { SmtpSink } from '../helpers/smtp-sink';
import { createTestRotor, testConfig } from '../helpers/stack';
import { notifiedTenant } from '../helpers/notified-tenant';
import type { TestRotor } from '../helpers/stack';
import { freePort } from '../../devstack';
import { buildApp } from '../../api/app';
import { createToken } from '../../api/auth/tokens';
import { Role } from '../../domain';

describe('notifications', () => {
  let rotor: TestRotor;
  let smtp: SmtpSink;
  let vault: RecordingVault;
  const slack = new SlackStub('xoxb-test-token');
  const deniedQueue = `denied-${randomUUID()}`;
  beforeAll(async () => {
    smtp = new SmtpSink(await freePort());
    await smtp.start();
    await slack.start();
    rotor = await createTestRotor(
      testConfig({
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        SLACK_TOKEN: slack.token,
        SLACK_API_URL: slack.apiUrl,
        ROTOR_SECURITY_EMAILS: 'security@rotor.example',
        ROTOR_SECURITY_SLACK_CHANNEL: '#security',
        ROTOR_SECURITY_ESCALATION_SLACK_CHANNEL: '#security-escalations',
        ROTOR_OPS_EMAILS: 'ops@rotor.example',
        ROTOR_OPS_SLACK_CHANNEL: '#ops',
        ROTOR_NOTIFY_DIGEST_SECONDS: '2',
      }),
    );
    vault = new RecordingVault(rotor.config);
    await rotor.startWorker({ deps: { vault } });
    const denied = new VaultKv(
      nodeVault({ apiVersion: 'v1', endpoint: rotor.config.vault.addr, token: 'not-a-real-token' }),
      rotor.config.vault.kvMount,
    );
    await rotor.startWorker({ taskQueue: deniedQueue, deps: { vault: denied } });
  });
  afterAll(async () => {
    await rotor?.close();
    await smtp?.stop();
    await slack.stop();
  });

  /** A tenant whose owners get email at owner@<tenant>.example and Slack in #<tenant>. */
  const tenant = (prefix: string, settings: { slackChannel?: string } = {}): Promise<string> =>
    notifiedTenant(rotor.clients.db, prefix, settings);
  const mailsTo = (address: string) =>
    expect.poll(() => smtp.to(address).length, { timeout: 60_000, interval: 250 });
  const everything = (): string =>
    JSON.stringify([
      smtp.messages.map((m: ParsedMail) => [m.subject, m.text, m.html]),
      slack.posts,
    ]);

  it('tell the tenant by email and Slack that a rotation completed and the old version was revoked', async () => {
    const tenantId = await tenant('notify');
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'billing-key',
      policy: { graceSeconds: 1 },
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    await handle.signal(rotateNowSignal, { requestedBy: 'alice', reason: 'test' });
    await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.rotationsCompleted === 2 && s.state === 'ACTIVE',
    );
    await expect
      .poll(
        () =>
          smtp
            .to(`owner@${tenantId}.example`)
            .map((m) => m.text ?? '')
            .join('\n'),
        { timeout: 60_000 },
      )
      .toMatch(
        /billing-key \(api_key\) was rotated to version 2[\s\S]*Version 1 of billing-key \(api_key\) was revoked/,
      );
    const mail = smtp.to(`owner@${tenantId}.example`).at(-1);
    expect(mail?.html).toContain('What to do:');
    expect(mail?.text).toContain(tenantId);
    await expect
      .poll(() => slack.posts.filter((p) => p.channel === `#${tenantId}`).length, {
        timeout: 30_000,
      })
      .toBeGreaterThanOrEqual(1);
    expect(slack.posts.find((p) => p.channel === `#${tenantId}`)?.blocks[0]?.type).toBe('header');
  });

  it('send many rotations of one tenant as one digest instead of one message each', async () => {
    const tenantId = await tenant('digest');
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        startSecret(rotor.client, rotor.config.temporal.taskQueue, { tenantId, name: `key-${i}` }),
      ),
    );
    const address = `owner@${tenantId}.example`;
    const rotatedLines = () =>
      smtp
        .to(address)
        .flatMap((m) =>
          (m.text ?? '').split('\n').filter((l) => /was rotated to version 1/.test(l)),
        );
    await expect.poll(() => rotatedLines().length, { timeout: 60_000 }).toBe(5);
    expect(smtp.to(address).length).toBeLessThan(5);
  });

  it('ask security to approve, remind, and escalate to the second channel at the deadline', async () => {
    const tenantId = await tenant('approvals');
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'orders-db',
      type: SecretType.DatabasePassword,
      policy: {
        approval: {
          quorum: 1,
          remindEverySeconds: 1,
          escalateAfterSeconds: 2,
          expireAfterSeconds: 30,
        },
      },
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    await handle.signal(rotateNowSignal, { requestedBy: 'alice', reason: 'quarterly' });
    await expect
      .poll(
        () =>
          slack.posts.filter(
            (p) => p.channel === '#security-escalations' && p.text.includes(tenantId),
          ).length,
        {
          timeout: 60_000,
        },
      )
      .toBeGreaterThanOrEqual(1);
    const securityText = () =>
      smtp
        .to('security@rotor.example')
        .map((m) => m.text ?? '')
        .filter((t) => t.includes(tenantId))
        .join('\n');
    // The request and the escalation can share a digest, whose email and Slack post go out side
    // by side: the email may land just after the post.
    await expect
      .poll(securityText, { timeout: 30_000 })
      .toMatch(/alice asked to rotate orders-db \(database_password\)/);
    expect(securityText()).toContain('Approve or reject before');
  });

  it('alert ops and the tenant when a rotation needs attention', async () => {
    const tenantId = await tenant('alert');
    const handle = await startSecret(rotor.client, deniedQueue, { tenantId, name: 'key' });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'NEEDS_ATTENTION');
    await expect
      .poll(
        () =>
          smtp
            .to('ops@rotor.example')
            .some((m) =>
              (m.text ?? '').includes(
                `Rotating key (api_key) failed in its stage step (VaultPermissionDenied)`,
              ),
            ),
        { timeout: 60_000 },
      )
      .toBe(true);
    await expect
      .poll(
        () =>
          slack.posts.some(
            (p) => p.channel === '#ops' && JSON.stringify(p.blocks).includes(tenantId),
          ),
        {
          timeout: 30_000,
        },
      )
      .toBe(true);
  });

  it('wait out Slack’s 429 for the Retry-After it gives, then deliver', async () => {
    const tenantId = await tenant('ratelimit');
    slack.rateLimit.set(`#${tenantId}`, 1);
    await startSecret(rotor.client, rotor.config.temporal.taskQueue, { tenantId, name: 'key' });
    await expect
      .poll(() => slack.posts.filter((p) => p.channel === `#${tenantId}`).length, {
        timeout: 60_000,
      })
      .toBe(1);
    const attempts = slack.requests.filter((r) => r.channel === `#${tenantId}`);
    expect(attempts.map((a) => a.status)).toEqual([429, 200]);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('never hold up a rotation while SMTP is down, and deliver once it is back', async () => {
    const tenantId = await tenant('smtpdown');
    await smtp.stop();
    try {
      const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
        tenantId,
        name: 'key',
      });
      await handle.signal(rotateNowSignal, { requestedBy: 'alice', reason: 'during outage' });
      const done = await waitForStatus(
        rotor.client,
        handle.workflowId,
        (s) => s.currentVersion === 2,
      );
      expect(done.currentVersion).toBe(2);
      expect(smtp.to(`owner@${tenantId}.example`)).toEqual([]);
    } finally {
      await smtp.start();
    }
    await mailsTo(`owner@${tenantId}.example`).toBeGreaterThanOrEqual(1);
  });

  it('record a notification that fails for good, and still complete the rotation', async () => {
    const tenantId = await tenant('gone', { slackChannel: '#archived' });
    slack.failWith.set('#archived', 'channel_not_found');
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'key',
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    await expect
      .poll(
        () =>
          rotor.clients.db
            .selectFrom('notification_deliveries')
            .select(['channel', 'status', 'error'])
            .where('tenant_id', '=', tenantId)
            .where('status', '=', 'failed')
            .execute(),
        { timeout: 60_000 },
      )
      .toEqual([
        { channel: 'slack', status: 'failed', error: 'Slack delivery failed (channel_not_found)' },
      ]);
    // Email to the same tenant still went out.
    await mailsTo(`owner@${tenantId}.example`).toBeGreaterThanOrEqual(1);

    // Visible through the API and as a Prometheus metric.
    const app = buildApp({
      checks: {},
      logLevel: 'silent',
      services: { db: rotor.clients.db, temporal: rotor.client, config: rotor.config },
    });
    try {
      const { token } = await createToken(rotor.clients.db, { name: 'ops', role: Role.Operator });
      const failures = await app.inject({
        method: 'GET',
        url: `/api/v1/notifications/failures?tenantId=${tenantId}`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(failures.json()).toMatchObject({
        items: [
          {
            tenant_id: tenantId,
            channel: 'slack',
            audience: 'tenant',
            error: 'Slack delivery failed (channel_not_found)',
          },
        ],
      });
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const count = /^notifications_failed_total\{channel="slack",audience="tenant"\} (\d+)$/m.exec(
        metrics,
      )?.[1];
      expect(Number(count)).toBeGreaterThanOrEqual(1);
    } finally {
      await app.close();
    }
  });

  it('never contain a secret value, in any email or Slack message of this file', () => {
    expect(vault.written.length).toBeGreaterThan(5);
    expect(smtp.messages.length).toBeGreaterThan(5);
    const haystack = everything();
    for (const value of vault.written) {
      for (const form of leakForms(value)) expect(haystack.includes(form)).toBe(false);
    }
  });
});
