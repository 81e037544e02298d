import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities';
import { requestRotation } from '../../control';
import { SecretType, policyFor } from '../../domain';
import { nextRotationAt } from '../../schedule';
import type { TargetSpec } from '../../domain';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import {
  activityNames,
  finalAttempts,
  rotationCost,
  settledHistory,
} from '../helpers/rotation-cost';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

/** The activities of a rotation whose answer this test loses once (every one but notifications). */
const ROTATION_STEPS = new Set([
  'beginRotation',
  'stageVersion',
  'verifyVersion',
  'applyTarget',
  'verifyTarget',
  'promoteVersion',
  'computeNextRotation',
  'finishRotation',
]);

/**
 * Each rotation step runs to the end on its first attempt, then its answer is lost (as when a
 * worker dies just after the step's transaction commits), so Temporal runs it again.
 */
const loseFirstAnswer: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const result: unknown = await next(input);
      if (ctx.info.attempt === 1 && ROTATION_STEPS.has(ctx.info.activityType)) {
        throw ApplicationFailure.retryable('injected: the answer was lost', 'InjectedLostAnswer');
      }
      return result;
    },
  },
});

/** A long grace: the lifecycle then waits in IN_GRACE, and nothing after the rotation runs. */
const POLICY = {
  schedule: { kind: 'interval', everySeconds: 3600 },
  graceSeconds: 3600,
  maxAttempts: 3,
} as const;

describe('one rotate-now rotation', () => {
  let rotor: TestRotor;
  let lossy: { worker: Worker; run: Promise<void>; connection: NativeConnection };
  const lossyQueue = `${uniqueName('lossy')}`;

  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    const connection = await NativeConnection.connect({ address: rotor.config.temporal.address });
    const worker = await Worker.create({
      connection,
      namespace: rotor.config.temporal.namespace,
      taskQueue: lossyQueue,
      activities: createActivities(rotor.clients),
      interceptors: { activity: [loseFirstAnswer] },
      workflowBundle: { codePath: inject('stack').workflowBundlePath },
    });
    lossy = { worker, run: worker.run(), connection };
  });
  afterAll(async () => {
    lossy?.worker.shutdown();
    await lossy?.run;
    await lossy?.connection.close();
    await rotor?.close();
  });

  /** Starts a secret, waits for its first version, rotates it now; returns the rotation's id. */
  const rotateOnce = async (taskQueue: string, target?: TargetSpec) => {
    const tenantId = uniqueName('trips');
    await rotor.clients.db.insertInto('tenants').values({ id: tenantId, name: tenantId }).execute();
    const handle = await startSecret(rotor.client, taskQueue, {
      tenantId,
      name: 'key',
      type: SecretType.ApiKey,
      policy: POLICY,
      ...(target ? { target } : {}),
    });
    await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1 && !s.rotationId,
    );
    const before = await settledHistory(rotor.client, handle.workflowId);
    const { rotationId } = await requestRotation(rotor.client, handle.workflowId, {
      requestedBy: 'alice',
      reason: 'counted',
    });
    const status = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 2 && !s.rotationId,
    );
    const after = await settledHistory(rotor.client, handle.workflowId);
    return { tenantId, rotationId, status, before, after };
  };

  const auditActions = async (rotationId: string) =>
    (
      await rotor.clients.db
        .selectFrom('audit_events')
        .select('action')
        .where('rotation_id', '=', rotationId)
        .orderBy('chain_seq')
        .execute()
    ).map((r) => r.action);

  /*
   * Before the fewer-round-trips patch, measured by these tests on the same code path: 7
   * activities, 0 local, 8 workflow tasks, 52 events for a secret in Vault alone; 9, 0, 10 and 64
   * with a tenant API-key target. Workflow tasks and events are bounds: a task the server retries
   * (a slow worker) adds some. After fewer-round-trips-v1 and before notify-local-enqueue-v1 (the
   * "completed" event handed over by a regular activity): 3, 2, 4 and 29; with a target 4, 2, 5
   * and 35. After notify-local-enqueue-v1 and before fold-begin-next-v1 (begin and the next
   * rotation as local activities in the task that takes the request): 2, 3, 3 and 24; with a
   * target 3, 3, 4 and 30. After fold-begin-next-v1 and before promote-announces-v1 (the
   * "completed" event handed over by a local activity after promote): 2, 1, 3 and 22; with a
   * target 3, 1, 4 and 28.
   */
  it('costs 2 activities, no local activity and 3 workflow tasks for a secret in Vault alone', async () => {
    const { before, after, status } = await rotateOnce(rotor.config.temporal.taskQueue);
    expect(status.state).toBe('IN_GRACE');
    expect(activityNames(after.slice(before.length))).toEqual(['stageVersion', 'promoteVersion']);
    const cost = rotationCost(before, after);
    expect(cost).toMatchObject({ activities: 2, localActivities: 0 });
    expect(cost.workflowTasks).toBeLessThanOrEqual(3);
    expect(cost.events).toBeLessThanOrEqual(21);
  });

  it('costs 3 activities, no local activity and 4 workflow tasks with a target to apply to', async () => {
    const { before, after, status } = await rotateOnce(rotor.config.temporal.taskQueue, {
      kind: 'tenant_api_key',
    });
    expect(status.state).toBe('IN_GRACE');
    expect(activityNames(after.slice(before.length))).toEqual([
      'stageVersion',
      'applyTarget',
      'promoteVersion',
    ]);
    const cost = rotationCost(before, after);
    expect(cost).toMatchObject({ activities: 3, localActivities: 0 });
    expect(cost.workflowTasks).toBeLessThanOrEqual(4);
    expect(cost.events).toBeLessThanOrEqual(27);
  });

  it("hands the tenant's notifier the 'rotation completed' event once, from promote, with the grace end the lifecycle keeps", async () => {
    const { tenantId, rotationId, status } = await rotateOnce(lossyQueue);
    const events = await rotor.clients.db
      .selectFrom('notification_outbox')
      .select('event')
      .where('tenant_id', '=', tenantId)
      .execute();
    const completed = events
      .map(
        (r) =>
          (typeof r.event === 'string' ? JSON.parse(r.event) : r.event) as Record<string, unknown>,
      )
      .filter((e) => e.kind === 'rotation.completed' && e.rotationId === rotationId);
    // Promote ran twice (its first answer was lost): the event is in the outbox once.
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      audience: 'tenant',
      version: 2,
      previousVersion: 1,
      graceEndsAt: status.graceEndsAt,
      nextRotationAt: status.nextRotationAt,
    });
  });

  it('records the next rotation promote computed from the policy, in the secret row and the status alike', async () => {
    const { tenantId, rotationId, status } = await rotateOnce(rotor.config.temporal.taskQueue);
    const row = await rotor.clients.db
      .selectFrom('secrets')
      .innerJoin('rotations', 'rotations.secret_id', 'secrets.id')
      .select(['secrets.next_rotation_at', 'rotations.completed_at'])
      .where('rotations.id', '=', rotationId)
      .where('secrets.tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    expect(row.next_rotation_at?.toISOString()).toBe(status.nextRotationAt);
    // Counted from the moment the rotation finished, in the same transaction, by the policy.
    const policy = policyFor(SecretType.ApiKey, POLICY);
    expect(status.nextRotationAt).toBe(nextRotationAt(policy, row.completed_at!).toISOString());
  });

  it('writes each step of a rotation to the audit trail once, in order, though every step ran twice', async () => {
    const { rotationId, before, after } = await rotateOnce(lossyQueue);
    // Each step really ran twice: its answer was lost once, so it completed on attempt 2.
    expect(finalAttempts(after.slice(before.length))).toEqual({
      stageVersion: 2,
      promoteVersion: 2,
    });
    expect(await auditActions(rotationId)).toEqual([
      'rotation.requested',
      'rotation.staged',
      'rotation.promoted',
      'rotation.completed',
    ]);
    const row = await rotor.clients.db
      .selectFrom('rotations')
      .select(['status', 'to_version'])
      .where('id', '=', rotationId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'COMPLETED', to_version: 2 });
  });

  it('keeps the time of the promotion on a rotation that goes straight to COMPLETED', async () => {
    const { rotationId } = await rotateOnce(rotor.config.temporal.taskQueue);
    const row = await rotor.clients.db
      .selectFrom('rotations')
      .select(['status', 'started_at', 'promoted_at', 'completed_at'])
      .where('id', '=', rotationId)
      .executeTakeFirstOrThrow();
    // Promote and finish are one transaction here: PROMOTED is never a status anyone can read.
    expect(row.status).toBe('COMPLETED');
    expect(row.promoted_at).toBeInstanceOf(Date);
    expect(row.started_at).toBeInstanceOf(Date);
    expect(row.completed_at).toBeInstanceOf(Date);
    expect(row.promoted_at!.getTime()).toBeGreaterThanOrEqual(row.started_at!.getTime());
    expect(row.promoted_at!.getTime()).toBeLessThanOrEqual(row.completed_at!.getTime());
  });

  it('writes the applied step between staged and promoted, once, when the rotation has a target', async () => {
    const { rotationId, before, after } = await rotateOnce(lossyQueue, { kind: 'tenant_api_key' });
    expect(finalAttempts(after.slice(before.length))).toMatchObject({ applyTarget: 2 });
    expect(await auditActions(rotationId)).toEqual([
      'rotation.requested',
      'rotation.staged',
      'rotation.applied',
      'rotation.promoted',
      'rotation.completed',
    ]);
  });
});
