import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { housekeepingRetry } from './activity-options';

const retention = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: housekeepingRetry,
});

/** One run of the audit retention schedule: archive rows older than the retention period. */
export async function auditRetention(input: {
  olderThanSeconds: number;
}): Promise<{ rows: number; chains: number }> {
  return retention.archiveExpiredAudit(input);
}
