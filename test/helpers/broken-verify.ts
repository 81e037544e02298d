import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { TargetDriver } from '../../activities/targets/driver';
import type { TargetKind, TargetSpec } from '../../domain';
import { rotateNowSignal } from '../../workflows';
import type { SecretStatus } from '../../workflows';
import { waitForStatus } from './lifecycle';
import type { TestRotor } from './stack';

/** A second worker whose target verification can be made to fail on demand. */
export interface BrokenVerify {
  /** The task queue to start a secret on to use this worker. */
  queue: string;
  /** While true, verify fails (non-retryable) after really logging in with the new value. */
  failing: boolean;
  /** Each value whose verification was made to fail, so apply demonstrably happened. */
  applied: string[];
}

/**
 * Starts a worker with the real driver for `kind`, except that while `failing` is on,
 * verification fails after really logging in with the new credential: the way to prove a
 * failed verify compensates against a real target.
 */
export async function startBrokenVerifyWorker(
  rotor: TestRotor,
  kind: TargetKind,
): Promise<BrokenVerify> {
  const broken: BrokenVerify = {
    queue: `broken-verify-${randomUUID()}`,
    failing: false,
    applied: [],
  };
  const real = rotor.clients.targets;
  const driver = real[kind] as unknown as TargetDriver<TargetSpec>;
  const verify: TargetDriver<TargetSpec>['verify'] = async (spec, staged, step) => {
    await driver.verify(spec, staged, step);
    if (!broken.failing) return;
    broken.applied.push(staged.value);
    throw ApplicationFailure.nonRetryable('injected: verification', 'VerificationFailed');
  };
  await rotor.startWorker({
    taskQueue: broken.queue,
    deps: { targets: { ...real, [kind]: { ...driver, verify } } },
  });
  return broken;
}

/**
 * One rotate-now on `workflowId` (a secret on `broken.queue`) whose verification fails: returns
 * the status once the lifecycle waits in NEEDS_ATTENTION, with verification working again.
 */
export async function failOneRotation(
  rotor: TestRotor,
  broken: BrokenVerify,
  workflowId: string,
): Promise<SecretStatus> {
  broken.failing = true;
  try {
    await rotor.client.workflow
      .getHandle(workflowId)
      .signal(rotateNowSignal, { requestedBy: 'test', reason: 'will fail' });
    return await waitForStatus(rotor.client, workflowId, (s) => s.state === 'NEEDS_ATTENTION');
  } finally {
    broken.failing = false;
  }
}
