import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApprovalRefusedError,
  approveRotation,
  breakGlassRotate,
  listPendingApprovals,
  rejectRotation,
} from '../../control';
import { SecretType, secretVaultPath } from '../../domain';
import type { ApprovalPolicy } from '../../domain';
import { retireSignal, rotateNowSignal } from '../../workflows';
import type { secretLifecycle } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const security = (approver: string) => ({ approver, roles: ['security'] });

describe('rotations that need security’s approval', () => {
  let rotor: TestRotor;
  const deps = () => ({ client: rotor.client, db: rotor.clients.db });
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
  });
  afterAll(async () => rotor?.close());

  /** A database_password secret (approval required by default), rotation requested by alice. */
  async function pendingRotation(approval: Partial<ApprovalPolicy> = {}) {
    const tenantId = uniqueName('appr');
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'orders-db',
      type: SecretType.DatabasePassword,
      policy: {
        approval: {
          quorum: 1,
          remindEverySeconds: 3600,
          escalateAfterSeconds: 7200,
          expireAfterSeconds: 10_800,
          ...approval,
        },
      },
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    await handle.signal(rotateNowSignal, { requestedBy: 'alice', reason: 'quarterly' });
    const status = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.state === 'AWAITING_APPROVAL',
    );
    const rotationId = status.pendingApproval?.rotationId ?? '';
    return { tenantId, workflowId: handle.workflowId, rotationId, status };
  }

  const auditActions = async (workflowId: string) =>
    (
      await rotor.clients.db
        .selectFrom('audit_events')
        .innerJoin('secrets', 'secrets.id', 'audit_events.secret_id')
        .select(['audit_events.action', 'audit_events.actor', 'audit_events.outcome'])
        .where('secrets.workflow_id', '=', workflowId)
        .orderBy('audit_events.id')
        .execute()
    ).map((e) => `${e.action}:${e.actor}:${e.outcome}`);

  it('stop before anything is staged, and ops can list them with their context', async () => {
    const { tenantId, workflowId, rotationId, status } = await pendingRotation();
    expect(status.currentVersion).toBe(1);
    const meta = (await rotor.vault.read(
      `${rotor.config.vault.kvMount}/metadata/${secretVaultPath(tenantId, 'orders-db')}`,
    )) as { data: { current_version: number } };
    expect(meta.data.current_version).toBe(1);
    await expect
      .poll(() => listPendingApprovals(rotor.client, { tenantId }), { timeout: 15_000 })
      .toEqual([
        expect.objectContaining({
          workflowId,
          rotationId,
          requestedBy: 'alice',
          reason: 'quarterly',
          quorum: 1,
          type: 'database_password',
        }),
      ]);
  });

  it('rotate once approved by someone from security', async () => {
    const { workflowId, rotationId } = await pendingRotation();
    const result = await approveRotation(deps(), workflowId, { ...security('bob'), rotationId });
    expect(result).toMatchObject({ outcome: 'approved', approvals: ['bob'], quorum: 1 });
    const done = await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 2);
    expect(done.pendingApproval).toBeNull();
    // The status query shows version 2 at promote; the row is completed by the next activity.
    await expect
      .poll(
        () =>
          rotor.clients.db
            .selectFrom('rotations')
            .select(['status', 'approved_by'])
            .where('id', '=', rotationId)
            .executeTakeFirst(),
        { timeout: 30_000, interval: 200 },
      )
      .toEqual({ status: 'COMPLETED', approved_by: 'bob' });
    expect(await auditActions(workflowId)).toEqual(
      expect.arrayContaining(['approval.requested:alice:info', 'approval.approved:bob:success']),
    );
  });

  it('do not rotate when rejected, and keep the old version', async () => {
    const { workflowId, rotationId } = await pendingRotation();
    const result = await rejectRotation(deps(), workflowId, {
      ...security('bob'),
      rotationId,
      reason: 'freeze',
    });
    expect(result.outcome).toBe('rejected');
    const after = await waitForStatus(rotor.client, workflowId, (s) => s.state === 'ACTIVE');
    expect(after.currentVersion).toBe(1);
    await expect
      .poll(() =>
        rotor.clients.db
          .selectFrom('rotations')
          .select('status')
          .where('id', '=', rotationId)
          .executeTakeFirst(),
      )
      .toEqual({ status: 'REJECTED' });
    expect(await auditActions(workflowId)).toContain('approval.rejected:bob:info');
  });

  it('refuse self-approval, a non-security approver and a stale rotation id, auditing each', async () => {
    const { workflowId, rotationId } = await pendingRotation();
    await expect(
      approveRotation(deps(), workflowId, { approver: 'alice', roles: ['security'], rotationId }),
    ).rejects.toThrow(/separation of duties/);
    await expect(
      approveRotation(deps(), workflowId, { approver: 'mallory', roles: ['operator'], rotationId }),
    ).rejects.toThrow(/does not hold the security role/);
    await expect(
      approveRotation(deps(), workflowId, { ...security('bob'), rotationId: 'an-old-rotation' }),
    ).rejects.toBeInstanceOf(ApprovalRefusedError);
    const still = await waitForStatus(
      rotor.client,
      workflowId,
      (s) => s.state === 'AWAITING_APPROVAL',
    );
    expect(still.pendingApproval?.approvals).toEqual([]);
    const refused = (await auditActions(workflowId)).filter((a) =>
      a.startsWith('approval.refused'),
    );
    expect(refused).toEqual([
      'approval.refused:alice:refused',
      'approval.refused:mallory:refused',
      'approval.refused:bob:refused',
    ]);
  });

  it('with a quorum of 2, need two distinct approvers', async () => {
    const { workflowId, rotationId } = await pendingRotation({ quorum: 2 });
    expect(
      await approveRotation(deps(), workflowId, { ...security('bob'), rotationId }),
    ).toMatchObject({
      outcome: 'awaiting_more_approvals',
      approvals: ['bob'],
    });
    await expect(
      approveRotation(deps(), workflowId, { ...security('bob'), rotationId }),
    ).rejects.toThrow(/already approved/);
    expect(
      await approveRotation(deps(), workflowId, { ...security('carol'), rotationId }),
    ).toMatchObject({
      outcome: 'approved',
      approvals: ['bob', 'carol'],
    });
    await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 2);
    const row = await rotor.clients.db
      .selectFrom('rotations')
      .select('approved_by')
      .where('id', '=', rotationId)
      .executeTakeFirstOrThrow();
    expect(row.approved_by).toBe('bob,carol');
  });

  it('record one decision per update id when a decision is retried', async () => {
    const { workflowId, rotationId } = await pendingRotation({ quorum: 2 });
    const first = await approveRotation(
      deps(),
      workflowId,
      { ...security('bob'), rotationId },
      { updateId: `${rotationId}-bob` },
    );
    const retried = await approveRotation(
      deps(),
      workflowId,
      { ...security('bob'), rotationId },
      { updateId: `${rotationId}-bob` },
    );
    expect(retried).toEqual(first);
    const rows = await rotor.clients.db
      .selectFrom('approvals')
      .select('approver')
      .where('rotation_id', '=', rotationId)
      .execute();
    expect(rows).toEqual([{ approver: 'bob' }]);
  });

  it('remind, escalate, then expire without a decision, and refuse a late one', async () => {
    const { workflowId, rotationId } = await pendingRotation({
      // Escalation comes well after the second reminder is due: a workflow task delayed by a
      // loaded machine must not let escalation overtake the reminders this test counts.
      remindEverySeconds: 1,
      escalateAfterSeconds: 5,
      expireAfterSeconds: 7,
    });
    const after = await waitForStatus(
      rotor.client,
      workflowId,
      (s) => s.state === 'ACTIVE',
      30_000,
    );
    expect(after.currentVersion).toBe(1);
    expect(new Date(after.nextRotationAt ?? 0).getTime()).toBeGreaterThan(Date.now());
    await expect
      .poll(() =>
        rotor.clients.db
          .selectFrom('rotations')
          .select('status')
          .where('id', '=', rotationId)
          .executeTakeFirst(),
      )
      .toEqual({ status: 'APPROVAL_EXPIRED' });
    const actions = await auditActions(workflowId);
    expect(actions.filter((a) => a.startsWith('approval.reminded')).length).toBeGreaterThanOrEqual(
      2,
    );
    expect(actions).toContain('approval.escalated:rotor:info');
    expect(actions).toContain('rotation.approval_expired:rotor:success');
    await expect(
      approveRotation(deps(), workflowId, { ...security('bob'), rotationId }),
    ).rejects.toThrow(/expired/);
  });

  it('take effect when given while no worker runs, once a worker is back', async () => {
    const { workflowId, rotationId } = await pendingRotation();
    await rotor.stopWorkers();
    const decision = approveRotation(deps(), workflowId, { ...security('bob'), rotationId });
    let settled = false;
    void decision.finally(() => (settled = true)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 3000));
    expect(settled).toBe(false);
    await rotor.startWorker();
    expect(await decision).toMatchObject({ outcome: 'approved' });
    await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 2);
  });

  it('are skipped by an admin’s break-glass, which is audited, and refused to a non-admin', async () => {
    const { workflowId } = await pendingRotation();
    await expect(
      breakGlassRotate(deps(), workflowId, {
        requestedBy: 'eve',
        roles: ['security'],
        reason: 'leak',
      }),
    ).rejects.toThrow(/admin role/);
    await breakGlassRotate(deps(), workflowId, {
      requestedBy: 'root',
      roles: ['admin'],
      reason: 'key found in a public repo',
    });
    const rotated = await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 2);
    expect(rotated.pendingApproval).toBeNull();
    const actions = await auditActions(workflowId);
    expect(actions).toEqual(
      expect.arrayContaining([
        'rotation.break_glass:root:info',
        'approval.superseded:rotor:info',
        'break_glass.refused:eve:refused',
      ]),
    );
  });

  it('record a rotation whose approval was still pending at retire as ended by the retire, not as rejected', async () => {
    const { workflowId, rotationId } = await pendingRotation();
    const handle = rotor.client.workflow.getHandle<typeof secretLifecycle>(workflowId);
    await handle.signal(retireSignal, { requestedBy: 'owner', reason: 'decommissioned' });
    expect((await handle.result()).state).toBe('RETIRED');
    const row = await rotor.clients.db
      .selectFrom('rotations')
      .select(['status', 'error_type'])
      .where('id', '=', rotationId)
      .executeTakeFirst();
    // Nobody rejected it: it ended as the value and window waits do when the secret is retired.
    expect(row).toEqual({ status: 'FAILED', error_type: 'SecretRetired' });
    const actions = await auditActions(workflowId);
    expect(actions).not.toContainEqual(expect.stringMatching(/^rotation\.rejected:/));
    expect(actions).toContain('secret.retired:owner:success');
  });

  it('run one rotation when break-glass supersedes a pending approval: the emergency is that rotation, not a second one after it', async () => {
    const tenantId = uniqueName('supersede');
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'orders-db',
      type: SecretType.DatabasePassword,
      policy: { graceSeconds: 3600 },
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    await handle.signal(rotateNowSignal, { requestedBy: 'alice', reason: 'quarterly' });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'AWAITING_APPROVAL');
    await breakGlassRotate(deps(), handle.workflowId, {
      requestedBy: 'root',
      roles: ['admin'],
      reason: 'key found in a public repo',
    });
    await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => (s.currentVersion ?? 0) >= 2 && s.state === 'IN_GRACE' && !s.rotationId,
    );
    // A second rotation would follow at once (its grace cut short): give it time to show.
    await new Promise((r) => setTimeout(r, 3000));
    const after = await waitForStatus(rotor.client, handle.workflowId, () => true);
    expect(after).toMatchObject({
      state: 'IN_GRACE',
      currentVersion: 2,
      previousVersion: 1,
      rotationsCompleted: 2,
      queuedRotation: null,
    });
    const meta = (await rotor.vault.read(
      `${rotor.config.vault.kvMount}/metadata/${secretVaultPath(tenantId, 'orders-db')}`,
    )) as { data: { current_version: number; versions: Record<string, { destroyed: boolean }> } };
    expect(meta.data.current_version).toBe(2);
    expect(meta.data.versions['1']?.destroyed).toBe(false);
  });

  it('break-glass during a grace period revokes the previous version first, then rotates', async () => {
    const tenantId = uniqueName('glass');
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'signing',
      type: SecretType.JwtSecret,
      policy: { graceSeconds: 3600 },
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    await handle.signal(rotateNowSignal, { requestedBy: 'alice', reason: 'routine' });
    await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.state === 'IN_GRACE' && s.previousVersion === 1,
    );
    await breakGlassRotate(deps(), handle.workflowId, {
      requestedBy: 'root',
      roles: ['admin'],
      reason: 'compromise',
    });
    const after = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 3,
    );
    expect(after.previousVersion).toBe(2);
    const meta = (await rotor.vault.read(
      `${rotor.config.vault.kvMount}/metadata/${secretVaultPath(tenantId, 'signing')}`,
    )) as {
      data: { versions: Record<string, { destroyed: boolean }> };
    };
    expect(meta.data.versions['1']?.destroyed).toBe(true);
  });
});
