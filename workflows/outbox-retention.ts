import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { housekeepingRetry } from './activity-options';

const retention = proxyActivities<Activities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '2m',
  retry: housekeepingRetry,
});

/** One run of the outbox retention schedule: delete delivered rows older than the period. */
export async function outboxRetention(input: {
  olderThanSeconds: number;
}): Promise<{ rows: number; batches: number }> {
  return retention.pruneDeliveredOutbox(input);
}
