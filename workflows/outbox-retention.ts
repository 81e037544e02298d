import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain';

const retention = proxyActivities<Activities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '2m',
  retry: {
    initialInterval: '10s',
    backoffCoefficient: 2,
    maximumInterval: '5m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
});

/** One run of the outbox retention schedule: delete delivered rows older than the period. */
export async function outboxRetention(input: {
  olderThanSeconds: number;
}): Promise<{ rows: number; batches: number }> {
  return retention.pruneDeliveredOutbox(input);
}
