import { defineSignal } from '@temporalio/workflow';
import type { NotificationEvent } from '../domain';

/**
 * One event for a tenant's notifier workflow to include in its next digest. Sent by enqueues
 * before the outbox existed; still handled, so events signalled that way are delivered.
 */
export const notifySignal = defineSignal<[NotificationEvent]>('notify');

/** "The outbox has news for you": a wake-up only. Losing one delays a digest until the sweep. */
export const outboxHintSignal = defineSignal('outboxHint');

/** The notifier of a tenant: one long-running workflow per tenant, started on first event. */
export const notifierWorkflowId = (tenantId: string): string => `notifications/${tenantId}`;
