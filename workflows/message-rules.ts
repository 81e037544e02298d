import { ApplicationFailure } from '@temporalio/workflow';
import { ErrorType, MAX_POLICY_SECONDS, hasControlCharacter } from '../domain';
import type { Policy } from '../domain';
import type { Requester, RotateRefusal } from './messages';

// Workflows may not import the API's validation, so the few rules a message must pass are here.
// A signal cannot be refused, only ignored: a malformed one changes nothing, rather than reaching
// an activity that would fail on it (a NUL byte in a reason once failed every later rotation).
const MAX_TEXT = 500;

/** A short single-line text (an actor, a reason), as the API accepts it. */
export function isCleanText(value: unknown, max = MAX_TEXT): value is string {
  return (
    typeof value === 'string' &&
    value.trim().length > 0 &&
    value.length <= max &&
    !hasControlCharacter(value)
  );
}

/** Whether a requester (rotate, pause, resume, retire) is well formed. */
export function isValidRequester(request: unknown): request is Requester {
  const r = request as Partial<Requester> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    isCleanText(r.requestedBy, 200) &&
    isCleanText(r.reason) &&
    (r.breakGlass === undefined || typeof r.breakGlass === 'boolean') &&
    (r.inWindow === undefined || typeof r.inWindow === 'boolean') &&
    (r.bulkId === undefined || isCleanText(r.bulkId, 100))
  );
}

/** A duration of at most MAX_POLICY_SECONDS, when present. */
const inRange = (seconds: unknown): boolean =>
  seconds === undefined || (typeof seconds === 'number' && seconds <= MAX_POLICY_SECONDS);

/**
 * Whether every duration the lifecycle turns into a date or a timer is at most
 * MAX_POLICY_SECONDS, as the API requires. Past about 270,000 years no date exists: a policy
 * with one left the lifecycle failing on every attempt (the next rotation, a grace end, an
 * approval expiry could not be computed). Only a raw signal can carry one.
 */
export function isPolicyInRange(policy: Policy): boolean {
  const { schedule, approval, supply } = policy;
  return (
    (schedule.kind !== 'interval' || inRange(schedule.everySeconds)) &&
    inRange(policy.graceSeconds) &&
    [approval?.remindEverySeconds, approval?.escalateAfterSeconds, approval?.expireAfterSeconds]
      .concat([supply?.remindEverySeconds, supply?.deadlineSeconds, supply?.expiryLeadSeconds])
      .every(inRange)
  );
}

/** Only the parts of a policy that the lifecycle computes with; the API validates the rest. */
export function isValidPolicyUpdate(update: unknown): update is {
  policy: Policy;
  requestedBy: string;
} {
  const u = update as { policy?: Partial<Policy>; requestedBy?: unknown } | null;
  const p = u?.policy;
  if (typeof u !== 'object' || u === null || !p || typeof p !== 'object') return false;
  const schedule = p.schedule as { kind?: unknown; everySeconds?: unknown; expression?: unknown };
  const scheduleOk =
    typeof schedule === 'object' &&
    schedule !== null &&
    ((schedule.kind === 'interval' &&
      typeof schedule.everySeconds === 'number' &&
      schedule.everySeconds > 0) ||
      (schedule.kind === 'cron' && isCleanText(schedule.expression, 200)));
  return (
    isCleanText(u.requestedBy, 200) &&
    scheduleOk &&
    Number.isInteger(p.graceSeconds) &&
    (p.graceSeconds ?? -1) >= 0 &&
    Number.isInteger(p.maxAttempts) &&
    (p.maxAttempts ?? 0) >= 1 &&
    Number.isInteger(p.versionsKept) &&
    (p.versionsKept ?? 0) >= 1 &&
    typeof p.requiresApproval === 'boolean' &&
    typeof p.autoGenerate === 'boolean'
  );
}

/** A refused rotate-now: the API answers 409 with the code in the failure's details. */
export function refuseRotation(code: RotateRefusal, message: string): never {
  throw ApplicationFailure.create({
    message,
    type: ErrorType.RotateRefused,
    nonRetryable: true,
    details: [code],
  });
}
