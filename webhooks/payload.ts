import type { NotificationEvent } from '../domain';

/** What a webhook body says about one event: ids, names, versions and times, never a value. */
export interface WebhookPayload {
  type: string;
  /** When it happened (ISO). */
  timestamp: string;
  data: Record<string, string | number | null>;
}

/**
 * The body of one event's webhook. Fields are copied by name from a fixed list (never spread),
 * so nothing added to an event later reaches a receiver without being chosen here.
 */
export function webhookPayload(event: NotificationEvent): WebhookPayload {
  const data: WebhookPayload['data'] = {
    tenantId: event.tenantId,
    secretName: event.secretName,
    secretType: event.secretType,
    workflowId: event.workflowId,
  };
  const optional = {
    rotationId: event.rotationId,
    version: event.version,
    previousVersion: event.previousVersion,
    graceEndsAt: event.graceEndsAt,
    nextRotationAt: event.nextRotationAt,
    expiresAt: event.expiresAt,
    errorType: event.errorType,
    credentials: event.credentials,
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) data[key] = value;
  }
  return { type: event.kind, timestamp: event.at, data };
}
