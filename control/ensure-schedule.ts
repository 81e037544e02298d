import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import type { Client, ScheduleOptionsAction } from '@temporalio/client';

export type EnsureScheduleOutcome = 'created' | 'updated' | 'removed' | 'off';

/**
 * Keeps one Temporal Schedule in step with configuration, safe for every worker to call at
 * start-up: no interval removes it; otherwise it is created, or updated to this interval and
 * action if it exists. One run at a time (SKIP), and a missed run is not made up late in bulk.
 */
export async function ensureSchedule(
  client: Client,
  scheduleId: string,
  everySeconds: number | null,
  action: ScheduleOptionsAction,
): Promise<EnsureScheduleOutcome> {
  if (everySeconds === null) {
    try {
      await client.schedule.getHandle(scheduleId).delete();
      return 'removed';
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return 'off';
      throw err;
    }
  }
  const spec = { intervals: [{ every: everySeconds * 1000 }] };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
  return 'updated';
}
