import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain';
import type { Policy } from '../../domain';

/** When the next rotation is due after `from`, under the policy's schedule. */
export function nextRotationAt(policy: Policy, from: Date): Date {
  const { schedule } = policy;
  if (schedule.kind === 'interval') return new Date(from.getTime() + schedule.everySeconds * 1000);
  throw ApplicationFailure.nonRetryable(
    'cron schedules are not supported yet',
    ErrorType.ValidationFailed,
  );
}
