import type { Client } from '@temporalio/client';
import { auditRetention } from '../workflows';
import { ensureSchedule } from './ensure-schedule';
import type { EnsureScheduleOutcome } from './ensure-schedule';

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
): Promise<EnsureScheduleOutcome> {
  const scheduleId = options.scheduleId ?? AUDIT_RETENTION_SCHEDULE_ID;
  const every = options.olderThanSeconds === 0 ? null : (options.everySeconds ?? 86_400);
  return ensureSchedule(client, scheduleId, every, {
    type: 'startWorkflow',
    workflowType: auditRetention,
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [{ olderThanSeconds: options.olderThanSeconds }],
  });
}
