import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError, createSecret } from '../../control';
import { secretWorkflowId } from '../../domain';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('creating a secret through createSecret', () => {
  let rotor: TestRotor;
  beforeAll(async () => {
    rotor = await createTestRotor(
      testConfig({ ROTOR_MIN_ROTATION_INTERVAL_SECONDS: '3600', ROTOR_MAX_VALUE_BYTES: '1024' }),
    );
    await rotor.startWorker();
  });
  afterAll(async () => rotor?.close());

  const base = () => ({
    tenantId: uniqueName('create'),
    name: 'svc-token',
    type: 'service_token',
    requestedBy: 'alice',
  });

  /** Asserts the request is refused with `error` naming `field`, and that nothing was started. */
  async function expectRefused(
    input: ReturnType<typeof base> & Record<string, unknown>,
    field: string,
  ) {
    const err = await createSecret(rotor.client, rotor.config, input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ code: 'ROT_ERR_VALIDATION', statusCode: 400 });
    expect((err as ValidationError).issues.map((i) => i.field)).toContain(field);
    const name = typeof input.name === 'string' ? input.name : 'svc-token';
    await expect(
      rotor.client.workflow.getHandle(secretWorkflowId(input.tenantId, name)).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
    const rows = await rotor.clients.db
      .selectFrom('secrets')
      .select('id')
      .where('tenant_id', '=', input.tenantId)
      .execute();
    expect(rows).toEqual([]);
  }

  it('refuses an unknown type', () => expectRefused({ ...base(), type: 'ssh_key' }, 'type'));
  it('refuses a malformed cron expression', () =>
    expectRefused({ ...base(), policy: { cron: '61 * * * *' } }, 'policy.cron'));
  it('refuses an interval below the configured floor', () =>
    expectRefused({ ...base(), policy: { intervalSeconds: 60 } }, 'policy.intervalSeconds'));
  it('refuses a negative grace period', () =>
    expectRefused({ ...base(), policy: { graceSeconds: -1 } }, 'policy.graceSeconds'));
  it('refuses a name with path traversal', () =>
    expectRefused({ ...base(), name: '../etc/passwd' }, 'name'));
  it('refuses a name outside [a-z0-9._-]', () =>
    expectRefused({ ...base(), name: 'Billing Key' }, 'name'));
  it('refuses an oversized value without echoing it', async () => {
    const value = `S3CRET-${'x'.repeat(2000)}`;
    await expectRefused({ ...base(), initialValue: value }, 'initialValue');
    const err = (await createSecret(rotor.client, rotor.config, {
      ...base(),
      initialValue: value,
    }).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain('S3CRET');
  });

  it('starts an owner-supplied type waiting for its value, never generating one', async () => {
    const handle = await createSecret(rotor.client, rotor.config, {
      ...base(),
      type: 'tls_certificate',
    });
    const status = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.state === 'AWAITING_VALUE',
    );
    expect(status.currentVersion).toBeNull();
    expect(status.pendingSupply?.rotationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses an initial value that breaks its type’s rules, naming the field and not the value', async () => {
    await expectRefused(
      { ...base(), type: 'oauth_client_secret', initialValue: 'S3CRET-value' },
      'initialValue',
    );
    const err = (await createSecret(rotor.client, rotor.config, {
      ...base(),
      type: 'oauth_client_secret',
      initialValue: 'S3CRET-value',
    }).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('at least 16 characters');
    expect(err.message).not.toContain('S3CRET');
  });

  it('refuses a valid initial value when no Vault client can stage it, starting nothing', async () => {
    const input = { ...base(), initialValue: 'S3CRET-value-long-enough' };
    const err = await createSecret(rotor.client, rotor.config, input).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ROT_ERR_NOT_CONFIGURED', statusCode: 503 });
    expect((err as Error).message).not.toContain('S3CRET');
    await expect(
      rotor.client.workflow.getHandle(secretWorkflowId(input.tenantId, input.name)).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('starts a valid request with its type’s defaults and a cron schedule', async () => {
    const input = { ...base(), policy: { cron: '0 3 * * 1', cronTimeZone: 'Europe/Paris' } };
    const handle = await createSecret(rotor.client, rotor.config, input);
    const status = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.state === 'ACTIVE',
    );
    expect(status.currentVersion).toBe(1);
    // Mondays 03:00 in Paris is 01:00 or 02:00 UTC depending on the season.
    const next = new Date(status.nextRotationAt ?? '');
    expect(next.getUTCDay()).toBe(1);
    expect([1, 2]).toContain(next.getUTCHours());
    expect(next.getTime()).toBeGreaterThan(Date.now());
  });
});
