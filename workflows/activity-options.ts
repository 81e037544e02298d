import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
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
