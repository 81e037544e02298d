import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../devstack';
import { SecretType } from '../../domain';
import { rotateNowSignal } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { SmtpSink } from '../helpers/smtp-sink';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const GENERATED = [
  SecretType.JwtSecret,
  SecretType.WebhookSecret,
  SecretType.EncryptionKey,
  SecretType.ServiceToken,
] as const;

describe('generated secrets with no external target', () => {
  let rotor: TestRotor;
  let smtp: SmtpSink;
  beforeAll(async () => {
    smtp = new SmtpSink(await freePort());
    await smtp.start();
    rotor = await createTestRotor(
      testConfig({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, ROTOR_NOTIFY_DIGEST_SECONDS: '1' }),
    );
    await rotor.startWorker();
  });
  afterAll(async () => {
    await rotor?.close();
    await smtp?.stop();
  });

  it.each(GENERATED)(
    '%s: stages and promotes in Vault, keeps the previous version readable through grace, and tells its consumers',
    async (type) => {
      const tenantId = uniqueName(type.replace('_', '-'));
      await rotor.clients.db
        .insertInto('tenants')
        .values({
          id: tenantId,
          name: tenantId,
          notification_settings: JSON.stringify({ emails: [`consumers@${tenantId}.example`] }),
        })
        .execute();
      const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
        tenantId,
        name: 'signing',
        type,
        policy: { requiresApproval: false, graceSeconds: 3 },
      });
      await waitForStatus(rotor.client, handle.workflowId, (s) => s.currentVersion === 1);
      await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'scheduled drill' });
      await waitForStatus(
        rotor.client,
        handle.workflowId,
        (s) => s.currentVersion === 2 && s.previousVersion === 1,
      );
      const path = `rotor/${tenantId}/signing`;
      const meta = await rotor.clients.vault.metadata(path);
      expect(meta.labels).toMatchObject({ current: 2, previous: 1 });
      const [v1, v2] = [
        await rotor.clients.vault.read(path, 1),
        await rotor.clients.vault.read(path, 2),
      ];
      // Both versions readable in grace, and different.
      expect(typeof v1?.data.value).toBe('string');
      expect(typeof v2?.data.value).toBe('string');
      expect(v1?.data.value).not.toBe(v2?.data.value);

      await waitForStatus(rotor.client, handle.workflowId, (s) => s.previousVersion === null);
      expect(await rotor.clients.vault.read(path, 1)).toBeUndefined();

      // Consumers (the owning tenant's recipients) hear of the new version, never its value.
      await expect
        .poll(
          () =>
            smtp
              .to(`consumers@${tenantId}.example`)
              .map((m) => `${m.subject ?? ''}\n${m.text ?? ''}`)
              .join('\n'),
          { timeout: 60_000, interval: 250 },
        )
        .toMatch(/version 2/i);
      const mail = JSON.stringify(smtp.to(`consumers@${tenantId}.example`));
      expect(mail).not.toContain(String(v1?.data.value));
      expect(mail).not.toContain(String(v2?.data.value));
    },
  );
});
