import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Audience, NotificationEvent } from '../domain';
import { notifySignal, outboxHintSignal } from './notifier-messages';

export interface TenantNotificationsInput {
  tenantId: string;
  /** Events arriving within this window after the first go out together. */
  digestSeconds: number;
  /** Carried through continueAsNew: events that came by signal (before the outbox). */
  pending?: NotificationEvent[];
  /**
   * Idle sweep of the outbox, first after this many seconds, then doubling up to an hour: only
   * runs from before `notifier-no-idle-sweep-v1` sweep; later ones wait for a wake-up.
   */
  sweepSeconds?: number;
  /** Carried through continueAsNew: a wake-up (or a full digest) the last run had not served. */
  hinted?: boolean;
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
// Claiming and completing a digest must happen however long the database is away: an event is
// only ever lost if these give up, so they do not.
const outbox = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumInterval: '1m' },
});

const AUDIENCES: Audience[] = ['tenant', 'security', 'ops'];
const MAX_EVENTS_PER_DIGEST = 200;
const DEFAULT_SWEEP_SECONDS = 30;
const MAX_SWEEP_SECONDS = 3600;

/**
 * The notifier drains the notification outbox (signals only wake it). Runs started earlier fed a
 * queue from signals, and replay that way; from this point on, a run drains the outbox.
 */
const OUTBOX_PATCH = 'notifier-outbox-v1';

/**
 * The notifier waits for a wake-up with no timer: whoever writes an outbox row owes its wake-up
 * (the worker retries a failed one, and a starting worker wakes every tenant with waiting rows),
 * so an idle tenant costs no timer and no database statement. Runs from before it replay with
 * their sweep timer.
 */
const NO_IDLE_SWEEP_PATCH = 'notifier-no-idle-sweep-v1';

/** Sends one digest per audience on both channels; a channel that fails for good is recorded. */
async function deliverDigest(
  tenantId: string,
  digestId: string,
  audiences: Audience[],
  eventsOf?: (audience: Audience) => NotificationEvent[],
): Promise<void> {
  await Promise.all(
    audiences.flatMap((audience) => {
      const events = eventsOf?.(audience);
      if (events?.length === 0) return [];
      const digest = { digestId, tenantId, audience, ...(events ? { events } : {}) };
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

/** One per tenant: delivers the tenant's notification events as digests, per audience. */
export async function tenantNotifications(input: TenantNotificationsInput): Promise<void> {
  const queue: NotificationEvent[] = [...(input.pending ?? [])];
  let hinted = input.hinted ?? false;
  setHandler(notifySignal, (event) => {
    queue.push(event);
  });
  setHandler(outboxHintSignal, () => {
    hinted = true;
  });
  const baseSweep = input.sweepSeconds ?? DEFAULT_SWEEP_SECONDS;
  let sweepSeconds = baseSweep;
  for (let digests = 0; ; digests += 1) {
    if (digests >= 100 || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof tenantNotifications>({
        ...input,
        pending: queue.splice(0),
        hinted,
      });
    }
    if (patched(OUTBOX_PATCH)) {
      // Events signalled by an enqueue from before the outbox (a rolling upgrade) go first.
      if (queue.length > 0) {
        if (input.digestSeconds > 0) await sleep(input.digestSeconds * 1000);
        const legacy = queue.splice(0, MAX_EVENTS_PER_DIGEST);
        await deliverDigest(input.tenantId, uuid4(), AUDIENCES, (audience) =>
          legacy.filter((e) => e.audience === audience),
        );
        continue;
      }
      if (!hinted) {
        if (patched(NO_IDLE_SWEEP_PATCH)) await condition(() => hinted || queue.length > 0);
        // Runs from before: asleep until woken, with a sweep now and then.
        else await condition(() => hinted || queue.length > 0, sweepSeconds * 1000);
      }
      if (queue.length > 0 && !hinted) continue;
      if (hinted && input.digestSeconds > 0) await sleep(input.digestSeconds * 1000);
      // Wake-ups from here on ask for another round: what they announce may miss this claim.
      hinted = false;
      const claimed = await outbox.claimNotificationDigest({
        tenantId: input.tenantId,
        digestId: uuid4(),
      });
      if (claimed.events === 0) {
        sweepSeconds = Math.min(sweepSeconds * 2, MAX_SWEEP_SECONDS);
        continue;
      }
      sweepSeconds = baseSweep;
      await deliverDigest(input.tenantId, claimed.digestId, claimed.audiences);
      await outbox.completeNotificationDigest({ digestId: claimed.digestId });
      // A full digest may have left more behind: go again without waiting for a wake-up.
      if (claimed.events >= MAX_EVENTS_PER_DIGEST) hinted = true;
      continue;
    }
    // Runs started before the outbox: the signal-fed queue, exactly as it was recorded.
    await condition(() => queue.length > 0 || hinted);
    if (queue.length === 0) continue;
    if (input.digestSeconds > 0) await sleep(input.digestSeconds * 1000);
    const batch = queue.splice(0, MAX_EVENTS_PER_DIGEST);
    await deliverDigest(input.tenantId, uuid4(), AUDIENCES, (audience) =>
      batch.filter((e) => e.audience === audience),
    );
  }
}
