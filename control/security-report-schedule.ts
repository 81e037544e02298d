import type { Client } from '@temporalio/client';
import { securityReport } from '../workflows';
import { ensureSchedule } from './ensure-schedule';
import type { EnsureScheduleOutcome } from './ensure-schedule';

/** The one schedule every worker keeps in step with its configuration. */
export const SECURITY_REPORT_SCHEDULE_ID = 'rotor-security-report';

/** Secrets due within this long are listed as expiring soon in the scheduled report. */
const DUE_WITHIN_SECONDS = 7 * 86_400;

export interface SecurityReportScheduleOptions {
  taskQueue: string;
  /** 0 removes the schedule. */
  intervalSeconds: number;
  scheduleId?: string;
}

/**
 * Creates the Temporal Schedule that sends the security report every `intervalSeconds`, or
 * updates it to this interval if it exists: safe for every worker to call at start-up.
 */
export async function ensureSecurityReportSchedule(
  client: Client,
  options: SecurityReportScheduleOptions,
): Promise<EnsureScheduleOutcome> {
  const scheduleId = options.scheduleId ?? SECURITY_REPORT_SCHEDULE_ID;
  const every = options.intervalSeconds === 0 ? null : options.intervalSeconds;
  return ensureSchedule(client, scheduleId, every, {
    type: 'startWorkflow',
    workflowType: securityReport,
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    // Each report covers the time since the one before it.
    args: [{ windowSeconds: options.intervalSeconds, dueWithinSeconds: DUE_WITHIN_SECONDS }],
  });
}
