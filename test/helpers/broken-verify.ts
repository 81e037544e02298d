import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { TargetDriver } from '../../activities/targets/driver';
import type { TargetKind, TargetSpec } from '../../domain';
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
