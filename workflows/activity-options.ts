import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Policy } from '../domain';
import { asActivityFailures } from './local-activity-failures';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain';

/**
 * Bookkeeping activities (database rows, audit, schedules, counts): short, retried generously
 * with backoff to 1 minute (about 15 minutes in all), stopping at once on what cannot succeed.
 */
export const bookkeepingOptions: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
};

/**
 * The same bookkeeping, run as local activities: inside the workflow task that asks for them, with
 * no task of their own for the server to dispatch, and one marker event each in history. Retried
 * as above (past a minute the SDK waits on a timer between attempts).
 */
export const bookkeepingLocalOptions: LocalActivityOptions = {
  startToCloseTimeout: '30s',
  retry: bookkeepingOptions.retry,
};

/**
 * Handing a notification event to the outbox (and waking the tenant's notifier): quick, three
 * attempts, and a failure never holds up the lifecycle (the caller swallows it). Nothing in
 * NON_RETRYABLE_ERROR_TYPES is raised by it; listed so a future one stops at once.
 */
export const notifyEnqueueOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: {
    initialInterval: '500ms',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
};

/** One rotation's steps are retried with backoff up to the policy's limit. */
function rotationRetry(policy: Policy): RetryPolicy {
  return {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '60s',
    maximumAttempts: policy.maxAttempts,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  };
}

/** Activities for one rotation, retried with backoff up to the policy's limit. */
export function rotationActivities(policy: Policy) {
  return proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: rotationRetry(policy) });
}

/** The same, as local activities: bookkeeping with no I/O but the engine database's. */
export function rotationLocalActivities(policy: Policy) {
  return asActivityFailures(
    proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: rotationRetry(policy) }),
  );
}

/**
 * One webhook message: attempts at 0 s, 2 s, 8 s, 26 s, 80 s, ~4 min, ~12 min and ~27 min, then
 * recorded as failed. Bounded, so a receiver that is gone for good stops costing anything.
 */
export const webhookDeliveryOptions: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 3,
    maximumInterval: '15m',
    maximumAttempts: 8,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
};

/**
 * Scheduled housekeeping (audit archive, outbox pruning): long batch jobs retried with backoff to
 * 5 minutes, 10 attempts; the next scheduled run picks up whatever a failed one left.
 */
export const housekeepingRetry: RetryPolicy = {
  initialInterval: '10s',
  backoffCoefficient: 2,
  maximumInterval: '5m',
  maximumAttempts: 10,
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};
