import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ErrorType } from '../../domain';
import type { NotificationEvent } from '../../domain';
import { notifierWorkflowId, outboxHintSignal } from '../../workflows/notifier-messages';
import type { NotifyDeps } from './deps';
import { writeToOutbox } from './outbox';

/** How long the wake-up may take before the enqueue gives up on it (the event is already safe). */
const HINT_DEADLINE_MS = 2_000;

/**
 * Writes the event to the notification outbox under `eventId` (a retry writes nothing new), then
 * wakes the tenant's notifier, starting it on first use. A wake-up that does not get through in
 * time is harmless: the running notifier also sweeps the outbox. Only while no notifier has ever
 * taken this tenant's events does a failed wake-up fail, so that starting one is retried.
 */
export async function enqueueEvent(
  deps: Pick<NotifyDeps, 'config' | 'db'>,
  client: Client,
  where: { eventId: string; taskQueue: string },
  event: NotificationEvent,
): Promise<void> {
  const { notifierSeen } = await writeToOutbox(deps.db, where.eventId, event);
  try {
    await client.withAbortSignal(AbortSignal.timeout(HINT_DEADLINE_MS), () =>
      client.workflow.signalWithStart('tenantNotifications', {
        workflowId: notifierWorkflowId(event.tenantId),
        taskQueue: where.taskQueue,
        args: [{ tenantId: event.tenantId, digestSeconds: deps.config.digestSeconds }],
        signal: outboxHintSignal,
        signalArgs: [],
      }),
    );
  } catch {
    if (!notifierSeen)
      throw ApplicationFailure.retryable(
        'the tenant notifier could not be started yet; the event is kept in the outbox',
        ErrorType.NotificationDeliveryFailed,
      );
  }
}

/**
 * The lifecycle's enqueue: the event goes to the outbox keyed by the workflow step that raised it,
 * so the lifecycle never waits for SMTP or Slack, nor for a busy Temporal server.
 */
export function createEnqueueNotification(deps: Pick<NotifyDeps, 'config' | 'db'>) {
  return async function enqueueNotification(event: NotificationEvent): Promise<void> {
    const { client, info } = Context.current();
    // Every enqueue is scheduled by a workflow; the event's own workflow id is the fallback.
    const run = info.workflowExecution ?? { workflowId: event.workflowId, runId: '-' };
    const eventId = `${run.workflowId}/${run.runId}/${info.activityId}`;
    await enqueueEvent(deps, client, { eventId, taskQueue: info.taskQueue }, event);
  };
}
