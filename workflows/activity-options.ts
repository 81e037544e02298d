import type { ActivityOptions } from '@temporalio/workflow';
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
