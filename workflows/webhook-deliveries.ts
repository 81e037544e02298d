import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { WebhookDeliveriesInput } from '../activities/notify/webhooks';
import { bookkeepingOptions, webhookDeliveryOptions } from './activity-options';

export type { WebhookDeliveriesInput };

const bookkeeping = proxyActivities<Activities>(bookkeepingOptions);
const delivery = proxyActivities<Activities>(webhookDeliveryOptions);

/**
 * One per notification digest with a tenant webhook to send: each (event, endpoint) pair is tried
 * on its own backoff schedule, in parallel, and a pair that fails every attempt is recorded as
 * failed. Started by the notifier's claim, off every rotation's path.
 */
export async function webhookDeliveries(input: WebhookDeliveriesInput): Promise<void> {
  const { deliveries } = await bookkeeping.planWebhookDeliveries(input);
  await Promise.all(
    deliveries.map(async (d) => {
      try {
        await delivery.deliverWebhook(d);
      } catch (err) {
        const cause = err instanceof ActivityFailure ? err.cause : undefined;
        const final = cause instanceof ApplicationFailure && cause.nonRetryable;
        await bookkeeping.recordWebhookFailure({
          ...d,
          attempts: final ? 1 : (webhookDeliveryOptions.retry?.maximumAttempts ?? 1),
          error: cause instanceof ApplicationFailure ? cause.message : 'delivery failed',
        });
      }
    }),
  );
}
