import { ApplicationFailure } from '@temporalio/common';
import { CronExpressionParser } from 'cron-parser';
import { ErrorType } from '../domain';
import type { Policy } from '../domain';
import { earliestInWindow, isValidTimeZone } from './window';

/** cron-parser reads 'H' as a random value; a schedule must give the same answer every time. */
const HASHED_FIELD = /(?<![a-z])h(?![a-z])/i;

/** When the next rotation is due after `from`: the schedule's time, then the maintenance window. */
export function nextRotationAt(policy: Policy, from: Date): Date {
  const { schedule } = policy;
  const due =
    schedule.kind === 'interval'
      ? new Date(from.getTime() + schedule.everySeconds * 1000)
      : nextCronOccurrence(schedule.expression, schedule.timeZone ?? 'UTC', from);
  return policy.maintenanceWindow ? earliestInWindow(policy.maintenanceWindow, due) : due;
}

/** Five or six fields (or an @alias) that cron-parser reads; it pads missing fields otherwise. */
export function isValidCron(expression: string, timeZone = 'UTC'): boolean {
  const trimmed = expression.trim();
  const fields = trimmed.split(/\s+/).length;
  const aliasOrFields = trimmed.startsWith('@') ? fields === 1 : fields === 5 || fields === 6;
  if (!aliasOrFields || HASHED_FIELD.test(trimmed) || !isValidTimeZone(timeZone)) return false;
  try {
    CronExpressionParser.parse(trimmed, { tz: timeZone });
    return true;
  } catch {
    return false;
  }
}

export { isValidTimeZone };

function nextCronOccurrence(expression: string, timeZone: string, from: Date): Date {
  if (!isValidCron(expression, timeZone)) {
    throw invalidSchedule(`invalid cron schedule or time zone "${timeZone}"`);
  }
  // cron-parser's next() is strictly after currentDate, even when `from` is itself an occurrence.
  return CronExpressionParser.parse(expression.trim(), { currentDate: from, tz: timeZone })
    .next()
    .toDate();
}

function invalidSchedule(message: string): ApplicationFailure {
  // Retrying cannot repair a policy, so the activity fails at once instead of backing off.
  return ApplicationFailure.nonRetryable(message, ErrorType.ValidationFailed);
}
