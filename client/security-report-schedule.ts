import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import type { Client, ScheduleOptionsAction, ScheduleSpec } from '@temporalio/client';
import { securityReport } from '../workflows';

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
): Promise<'created' | 'updated' | 'removed' | 'off'> {
  const scheduleId = options.scheduleId ?? SECURITY_REPORT_SCHEDULE_ID;
  if (options.intervalSeconds === 0) {
    try {
      await client.schedule.getHandle(scheduleId).delete();
      return 'removed';
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return 'off';
      throw err;
    }
  }
  const spec: ScheduleSpec = { intervals: [{ every: options.intervalSeconds * 1000 }] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: securityReport,
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    // Each report covers the time since the one before it.
    args: [{ windowSeconds: options.intervalSeconds, dueWithinSeconds: DUE_WITHIN_SECONDS }],
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      // A report still being delivered is not doubled up; a missed one is not sent late in bulk.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
  return 'updated';
}
