import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain';

const retention = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: {
    initialInterval: '10s',
    backoffCoefficient: 2,
    maximumInterval: '5m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
});

/** One run of the audit retention schedule: archive rows older than the retention period. */
export async function auditRetention(input: {
  olderThanSeconds: number;
}): Promise<{ rows: number; chains: number }> {
  return retention.archiveExpiredAudit(input);
}
