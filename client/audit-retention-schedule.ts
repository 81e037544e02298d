import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import type { Client, ScheduleOptionsAction, ScheduleSpec } from '@temporalio/client';
import { auditRetention } from '../workflows';

export const AUDIT_RETENTION_SCHEDULE_ID = 'rotor-audit-retention';

export interface AuditRetentionScheduleOptions {
  taskQueue: string;
  /** Rows older than this are archived; 0 removes the schedule (everything stays live). */
  olderThanSeconds: number;
  /** How often the archiver runs (daily by default). */
  everySeconds?: number;
  scheduleId?: string;
}

/**
 * Creates or updates the Temporal Schedule that applies the audit retention policy; safe for
 * every worker to call at start-up.
 */
export async function ensureAuditRetentionSchedule(
  client: Client,
  options: AuditRetentionScheduleOptions,
): Promise<'created' | 'updated' | 'removed' | 'off'> {
  const scheduleId = options.scheduleId ?? AUDIT_RETENTION_SCHEDULE_ID;
  if (options.olderThanSeconds === 0) {
    try {
      await client.schedule.getHandle(scheduleId).delete();
      return 'removed';
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return 'off';
      throw err;
    }
  }
  const spec: ScheduleSpec = { intervals: [{ every: (options.everySeconds ?? 86_400) * 1000 }] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: auditRetention,
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [{ olderThanSeconds: options.olderThanSeconds }],
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      // One archiver at a time; a missed day is simply done by the next run.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
  return 'updated';
}
