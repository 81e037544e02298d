import type { Policy } from '../../domain';
import { nextRotationAt } from '../../schedule';

/**
 * The next due time, as an activity: cron and time-zone arithmetic stays out of the workflow
 * sandbox, and the answer is recorded in history, so replays agree with the original run.
 */
export function computeNextRotation(input: { policy: Policy; from: string }): Promise<string> {
  return Promise.resolve(nextRotationAt(input.policy, new Date(input.from)).toISOString());
}
