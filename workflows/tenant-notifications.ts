import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Audience, NotificationEvent } from '../domain';
import { notifySignal } from './notifier-messages';

export interface TenantNotificationsInput {
  tenantId: string;
  /** Events arriving within this window after the first go out together. */
  digestSeconds: number;
  /** Carried through continueAsNew. */
  pending?: NotificationEvent[];
}

// Delivery retries on its own schedule: minutes of SMTP or Slack trouble are waited out here,
// never in the rotation that produced the event.
const delivery = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 10,
  },
});
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 20, maximumInterval: '1m' },
});

const AUDIENCES: Audience[] = ['tenant', 'security', 'ops'];
const MAX_EVENTS_PER_DIGEST = 200;

/** One per tenant: collects notification events and delivers them as digests, per audience. */
export async function tenantNotifications(input: TenantNotificationsInput): Promise<void> {
  const queue: NotificationEvent[] = [...(input.pending ?? [])];
  setHandler(notifySignal, (event) => {
    queue.push(event);
  });
  for (let digests = 0; ; digests += 1) {
    if (digests >= 100 || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof tenantNotifications>({ ...input, pending: queue.splice(0) });
    }
    await condition(() => queue.length > 0);
    if (input.digestSeconds > 0) await sleep(input.digestSeconds * 1000);
    const batch = queue.splice(0, MAX_EVENTS_PER_DIGEST);
    const digestId = uuid4();
    await Promise.all(
      AUDIENCES.flatMap((audience) => {
        const events = batch.filter((e) => e.audience === audience);
        if (events.length === 0) return [];
        const digest = { digestId, tenantId: input.tenantId, audience, events };
        return (['email', 'slack'] as const).map(async (channel) => {
          try {
            await (channel === 'email'
              ? delivery.deliverEmail(digest)
              : delivery.deliverSlack(digest));
          } catch (err) {
            const error =
              err instanceof Error && err.cause instanceof Error
                ? err.cause.message
                : 'delivery failed';
            await bookkeeping.recordDeliveryFailure({ ...digest, channel, error });
          }
        });
      }),
    );
  }
}
