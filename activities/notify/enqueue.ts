import { Context } from '@temporalio/activity';
import type { NotificationEvent } from '../../domain';
import { notifierWorkflowId, notifySignal } from '../../workflows/notifier-messages';
import type { NotifyDeps } from './deps';

/**
 * Hands an event to the tenant's notifier workflow (started on first use) and returns at once:
 * the lifecycle never waits for SMTP or Slack, and events arriving together become one digest.
 */
export function createEnqueueNotification(deps: Pick<NotifyDeps, 'config'>) {
  return async function enqueueNotification(event: NotificationEvent): Promise<void> {
    const { client, info } = Context.current();
    await client.workflow.signalWithStart('tenantNotifications', {
      workflowId: notifierWorkflowId(event.tenantId),
      taskQueue: info.taskQueue,
      args: [{ tenantId: event.tenantId, digestSeconds: deps.config.digestSeconds }],
      signal: notifySignal,
      signalArgs: [event],
    });
  };
}
