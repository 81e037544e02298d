import { Context } from '@temporalio/activity';
import type { NotificationEvent } from '../../domain';
import type { NotifyDeps } from './deps';
import { writeToOutbox } from './outbox';
import { WORKER_COALESCE_MS, createNotifierWakeups } from './wakeups';
import type { NotifierWakeups } from './wakeups';

/**
 * Writes the event to the notification outbox under `eventId` (a retry writes nothing new), then
 * wakes the tenant's notifier, starting it on first use. The notifier drains the outbox only when
 * woken, so the wake-up is owed by whoever wrote the row: one that does not get through in time is
 * retried by `wakeups` in the background, and this call still succeeds (the event is safe).
 * Resolves once the row is written; `woken` once the first wake-up was sent or owed (it never
 * rejects), for a caller that wants to wait for that too.
 */
export async function enqueueEvent(
  deps: Pick<NotifyDeps, 'db'>,
  wakeups: Pick<NotifierWakeups, 'wake'>,
  eventId: string,
  event: NotificationEvent,
): Promise<{ woken: Promise<void> }> {
  await writeToOutbox(deps.db, eventId, event);
  return { woken: wakeups.wake(event.tenantId) };
}

/**
 * The lifecycle's enqueue: the event goes to the outbox keyed by the workflow step that raised it,
 * so the lifecycle never waits for SMTP or Slack, nor for a busy Temporal server. Once the row is
 * written the wake-up is the retrier's to deliver (coalesced with the tenant's others, retried
 * if it fails): the lifecycle's workflow task does not wait for it. The worker injects its
 * retrier; a worker built without one (a test's own Worker) gets one over its activities'
 * Temporal client on first use.
 */
export function createEnqueueNotification(
  deps: Pick<NotifyDeps, 'db'>,
  wakeups: () => NotifierWakeups,
) {
  return async function enqueueNotification(event: NotificationEvent): Promise<void> {
    const { info } = Context.current();
    // Every enqueue is scheduled by a workflow; the event's own workflow id is the fallback.
    const run = info.workflowExecution ?? { workflowId: event.workflowId, runId: '-' };
    const eventId = `${run.workflowId}/${run.runId}/${info.activityId}`;
    // The lifecycle's task does not wait for the wake-up: one that cannot be sent is owed.
    await enqueueEvent(deps, wakeups(), eventId, event);
  };
}

/**
 * The worker's owed-wake-up retrier, for the activities that write outbox rows (the enqueue, and
 * promote where it announces the rotation). A worker built without one (a test's own Worker) gets
 * one over the running activity's Temporal client, made on first use and shared.
 */
export function notifierWakeupsOf(
  deps: Pick<NotifyDeps, 'config' | 'wakeups'>,
): () => NotifierWakeups {
  let wakeups = deps.wakeups;
  return () => {
    if (wakeups) return wakeups;
    const { client, info } = Context.current();
    wakeups = createNotifierWakeups({
      client,
      taskQueue: info.taskQueue,
      digestSeconds: deps.config.digestSeconds,
      coalesceMs: WORKER_COALESCE_MS,
    });
    return wakeups;
  };
}
