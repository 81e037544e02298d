import { patched, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { DEFAULT_UPCOMING_NOTICE_SECONDS } from '../../domain';
import type { Audience, NotificationEvent } from '../../domain';
import { notifyEnqueueOptions } from '../activity-options';
import type { LifecycleState } from '../state';
import type { LifecycleContext } from './context';

// Handing an event to the notifier is quick; if even that fails, the rotation goes on.
const notifier = proxyActivities<Activities>(notifyEnqueueOptions);
const localNotifier = proxyLocalActivities<Activities>(notifyEnqueueOptions);

/** Notifications were added after histories were recorded: old runs replay without them. */
const NOTIFICATIONS_PATCH = 'notifications-v1';

/**
 * The enqueue as a local activity: it runs inside the workflow task that raises the event, so a
 * rotation no longer costs an activity task and one more workflow task to hand its "completed"
 * event over (the outbox write and the notifier's wake-up are the same). Runs from before it
 * replay with the regular activity.
 */
const LOCAL_ENQUEUE_PATCH = 'notify-local-enqueue-v1';

/** Hands one event per audience to the notifier; a failure never fails or holds up the lifecycle. */
export async function notify(
  ctx: LifecycleContext,
  kind: NotificationEvent['kind'],
  audiences: Audience[],
  extra: Partial<NotificationEvent> = {},
): Promise<void> {
  if (!patched(NOTIFICATIONS_PATCH)) return;
  const { tenantId, name, type } = ctx.input;
  const enqueue = patched(LOCAL_ENQUEUE_PATCH) ? localNotifier : notifier;
  for (const audience of audiences) {
    try {
      await enqueue.enqueueNotification({
        kind,
        audience,
        tenantId,
        secretName: name,
        secretType: type,
        workflowId: workflowInfo().workflowId,
        at: new Date().toISOString(),
        ...extra,
      });
    } catch {
      // A notification that cannot even be queued is visible in this workflow's history as a
      // failed activity; it never fails or holds up the rotation.
    }
  }
}

/** When to tell the tenant a scheduled rotation is coming, or null if not (again). */
export function upcomingNoticeAt(st: LifecycleState): number | null {
  const lead = st.policy.upcomingNoticeSeconds ?? DEFAULT_UPCOMING_NOTICE_SECONDS;
  if (lead <= 0 || st.upcomingNoticeFor === st.nextRotationAt || st.paused || st.needsAttention)
    return null;
  const at = Date.parse(st.nextRotationAt) - lead * 1000;
  // Intervals shorter than the lead time get no notice: it would follow every rotation.
  if (st.lastRotatedAt && at <= Date.parse(st.lastRotatedAt)) return null;
  return patched(NOTIFICATIONS_PATCH) ? at : null;
}
