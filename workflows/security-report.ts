import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SendSecurityReportResult } from '../activities/report';

export interface SecurityReportInput {
  /** Failures, approvals and access are reported over this many seconds back. */
  windowSeconds: number;
  /** Secrets due within this many seconds are listed as expiring soon. */
  dueWithinSeconds: number;
}

// Like digests, a report waits out about ten minutes of SMTP or Slack trouble.
const delivery = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 10,
  },
});
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 20, maximumInterval: '1m' },
});

/** One run of the scheduled security report: build it and send it to the security channel. */
export async function securityReport(
  input: SecurityReportInput,
): Promise<SendSecurityReportResult | { failed: string }> {
  // The schedule gives each run its own workflow id: the report's idempotency key.
  const reportId = workflowInfo().workflowId;
  try {
    return await delivery.sendSecurityReport({ reportId, ...input });
  } catch (err) {
    const error =
      err instanceof Error && err.cause instanceof Error ? err.cause.message : 'delivery failed';
    await bookkeeping.recordSecurityReportFailure({ reportId, error });
    return { failed: error };
  }
}
