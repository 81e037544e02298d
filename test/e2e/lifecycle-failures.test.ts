import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultKv } from '../../vault';
import { secretStagingPath, secretVaultPath } from '../../domain';
import { resumeSignal } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';
import { FlakyReadVault } from '../helpers/flaky-read-vault';

describe('a lifecycle whose rotation fails', () => {
  let rotor: TestRotor;
  let flaky: FlakyReadVault;
  const deniedQueue = `denied-${randomUUID()}`;
  const flakyQueue = `flaky-${randomUUID()}`;
  beforeAll(async () => {
    rotor = await createTestRotor();
    const { addr, kvMount } = rotor.config.vault;
    // A token Vault does not know: every KV call is really refused with 403.
    const denied = new VaultKv(
      nodeVault({ apiVersion: 'v1', endpoint: addr, token: 'not-a-real-token' }),
      kvMount,
    );
    flaky = new FlakyReadVault(
      nodeVault({ apiVersion: 'v1', endpoint: addr, token: rotor.config.vault.token }),
      kvMount,
    );
    await rotor.startWorker({ taskQueue: deniedQueue, deps: { vault: denied } });
    await rotor.startWorker({ taskQueue: flakyQueue, deps: { vault: flaky } });
  });
  afterAll(async () => rotor?.close());

  it('stops at once on a non-retryable VaultPermissionDenied and waits in NEEDS_ATTENTION', async () => {
    const handle = await startSecret(rotor.client, deniedQueue, {
      tenantId: uniqueName('denied'),
      name: 'key',
      policy: { maxAttempts: 5 },
    });
    const status = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.state === 'NEEDS_ATTENTION',
    );
    expect(status.lastErrorType).toBe('VaultPermissionDenied');
    expect(status.currentVersion).toBeNull();
    // Non-retryable: one attempt, not maxAttempts.
    const history = await handle.fetchHistory();
    const stageAttempts = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'stageVersion',
    ).length;
    const failed = (history.events ?? []).find((e) => e.activityTaskFailedEventAttributes);
    expect(stageAttempts).toBe(1);
    expect(failed?.activityTaskFailedEventAttributes?.retryState).toBe(
      temporal.api.enums.v1.RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE,
    );
    // The status flips first; the rotation row is written by the next activity.
    const row = () =>
      rotor.clients.db
        .selectFrom('rotations')
        .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
        .select(['rotations.status', 'rotations.error_type', 'secrets.state'])
        .where('secrets.workflow_id', '=', handle.workflowId)
        .executeTakeFirstOrThrow();
    await expect
      .poll(row, { timeout: 15_000 })
      .toEqual({ status: 'FAILED', error_type: 'VaultPermissionDenied', state: 'NEEDS_ATTENTION' });
  });

  it('compensates a failed verification, keeps the old version current, and resumes with a fresh value', async () => {
    const tenantId = uniqueName('flaky');
    const handle = await startSecret(rotor.client, flakyQueue, {
      tenantId,
      name: 'key',
      policy: { maxAttempts: 2 },
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    const kvData = `${rotor.config.vault.kvMount}/data/${secretVaultPath(tenantId, 'key')}`;
    const kvMeta = `${rotor.config.vault.kvMount}/metadata/${secretVaultPath(tenantId, 'key')}`;
    const v1 = ((await rotor.vault.read(kvData)) as { data: { data: { value: string } } }).data.data
      .value;

    flaky.failReads = true;
    await handle.signal(resumeSignal, { requestedBy: 'test', reason: 'noop' }); // not in attention: no effect
    const { rotateNowSignal } = await import('../../workflows');
    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'exercise failure' });
    const failed = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.state === 'NEEDS_ATTENTION',
    );
    expect(failed.lastErrorType).toBe('Error');
    expect(failed.currentVersion).toBe(1);
    // What consumers read never changed: version 1 is the consumer path's newest and only
    // version, still current; the staged value was removed from the staging path.
    const meta = (await rotor.vault.read(kvMeta)) as {
      data: {
        current_version: number;
        custom_metadata: Record<string, string>;
        versions: Record<string, { destroyed: boolean }>;
      };
    };
    expect(meta.data.custom_metadata).toEqual({ rotor_current_version: '1' });
    expect(meta.data.current_version).toBe(1);
    expect(Object.keys(meta.data.versions)).toEqual(['1']);
    expect(
      ((await rotor.vault.read(kvData)) as { data: { data: { value: string } } }).data.data.value,
    ).toBe(v1);
    await expect(
      rotor.vault.read(
        `${rotor.config.vault.kvMount}/metadata/${secretStagingPath(tenantId, 'key')}`,
      ),
    ).rejects.toMatchObject({ response: { statusCode: 404 } });
    const audit = async () =>
      (
        await rotor.clients.db
          .selectFrom('audit_events')
          .innerJoin('secrets', 'secrets.id', 'audit_events.secret_id')
          .select('audit_events.action')
          .where('secrets.workflow_id', '=', handle.workflowId)
          .where('audit_events.action', 'in', ['rotation.compensated', 'rotation.failed'])
          .execute()
      )
        .map((a) => a.action)
        .sort();
    await expect
      .poll(audit, { timeout: 15_000 })
      .toEqual(['rotation.compensated', 'rotation.failed']);

    flaky.failReads = false;
    await handle.signal(resumeSignal, { requestedBy: 'oncall', reason: 'vault fixed' });
    // The failed rotation never reached the consumer path: the retry's value is version 2.
    const healed = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 2,
    );
    expect(healed.lastErrorType).toBeNull();
    const v2 = ((await rotor.vault.read(kvData)) as { data: { data: { value: string } } }).data.data
      .value;
    expect(v2).not.toBe(v1);
  });
});
