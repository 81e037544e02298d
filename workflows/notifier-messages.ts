import { defineSignal } from '@temporalio/workflow';
import type { NotificationEvent } from '../domain';

/** One event for a tenant's notifier workflow to include in its next digest. */
export const notifySignal = defineSignal<[NotificationEvent]>('notify');

/** The notifier of a tenant: one long-running workflow per tenant, started on first event. */
export const notifierWorkflowId = (tenantId: string): string => `notifications/${tenantId}`;
