import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';

/** One webhook message to one endpoint, as notification_deliveries identifies it. */
export interface WebhookDeliveryRef {
  tenantId: string;
  endpointId: string;
  /** The message's webhook-id: the same for every attempt. */
  messageId: string;
  /** Which event, by kind and ids only. */
  event: { kind: string; workflowId: string | null; rotationId: string | null };
}

/**
 * One row per attempt ('sent', or 'retrying' when it failed with attempts to come) and one
 * 'failed' row when the last attempt failed. A retried write of the same attempt is a no-op.
 */
export async function recordWebhookAttempt(
  db: Kysely<Database>,
  ref: WebhookDeliveryRef,
  outcome: {
    status: 'sent' | 'retrying' | 'failed';
    attempt: number;
    httpStatus: number | null;
    error?: string;
  },
): Promise<void> {
  await db
    .insertInto('notification_deliveries')
    .values({
      tenant_id: ref.tenantId,
      audience: 'tenant',
      channel: 'webhook',
      status: outcome.status,
      event_count: 1,
      events: JSON.stringify([ref.event]),
      error: outcome.error?.slice(0, 500) ?? null,
      idempotency_key:
        outcome.status === 'failed'
          ? `webhook:${ref.messageId}:failed`
          : `webhook:${ref.messageId}:${outcome.attempt}`,
      endpoint_id: ref.endpointId,
      attempt: outcome.attempt,
      http_status: outcome.httpStatus,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .execute();
}

/** Whether a message already reached its endpoint (a retry after the success was recorded). */
export async function webhookDelivered(db: Kysely<Database>, messageId: string): Promise<boolean> {
  const row = await db
    .selectFrom('notification_deliveries')
    .select('id')
    .where('channel', '=', 'webhook')
    .where('status', '=', 'sent')
    .where('idempotency_key', 'like', `webhook:${messageId.replace(/[%_\\]/g, '\\$&')}:%`)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
