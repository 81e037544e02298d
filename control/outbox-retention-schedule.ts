import type { Client } from '@temporalio/client';
import { outboxRetention } from '../workflows';
import { ensureSchedule } from './ensure-schedule';
import type { EnsureScheduleOutcome } from './ensure-schedule';

export const OUTBOX_RETENTION_SCHEDULE_ID = 'rotor-outbox-retention';

export interface OutboxRetentionScheduleOptions {
  taskQueue: string;
  /** Delivered outbox rows older than this are deleted; 0 removes the schedule (rows stay). */
  olderThanSeconds: number;
  /**
   * How often the pruner runs: daily by default, as the audit archive does. Retention is counted
   * in days, so an hourly run bought nothing but 23 more statements a day on an idle engine; a
   * daily run deletes about a day's rows, 1,000 per statement.
   */
  everySeconds?: number;
  scheduleId?: string;
}

/**
 * Creates or updates the Temporal Schedule that deletes delivered notification-outbox rows past
 * their retention period; safe for every worker to call at start-up.
 */
export async function ensureOutboxRetentionSchedule(
  client: Client,
  options: OutboxRetentionScheduleOptions,
): Promise<EnsureScheduleOutcome> {
  const scheduleId = options.scheduleId ?? OUTBOX_RETENTION_SCHEDULE_ID;
  const every = options.olderThanSeconds === 0 ? null : (options.everySeconds ?? 86_400);
  return ensureSchedule(client, scheduleId, every, {
    type: 'startWorkflow',
    workflowType: outboxRetention,
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [{ olderThanSeconds: options.olderThanSeconds }],
  });
}
