import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import { ErrorType, isWebhookEvent } from '../../domain';
import type { NotificationEvent } from '../../domain';
import type { VaultKv } from '../../vault';
import {
  BLOCKED_ADDRESS,
  createAddressGuard,
  findWebhookEndpoint,
  recordWebhookAttempt,
  sendWebhook,
  signingSecrets,
  webhookDelivered,
  webhookPayload,
} from '../../webhooks';
import type { WebhookDeliveryRef } from '../../webhooks';

/** What webhook delivery needs: the engine database, Vault (signing secrets), and HTTP. */
export interface WebhookDeps {
  db: Kysely<Database>;
  vault: VaultKv;
  /** Internal networks deliveries may reach (ROTOR_WEBHOOK_ALLOWED_NETWORKS); none when absent. */
  allowedNetworks?: readonly string[];
}

/** One event (an outbox row) to one endpoint. */
export interface WebhookDeliveryInput {
  tenantId: string;
  outboxId: string;
  endpointId: string;
}

export interface WebhookDeliveriesInput {
  tenantId: string;
  digestId: string;
}

export type WebhookResult = { sent: true; httpStatus: number } | { sent: false; skipped: string };

/** The webhook-id of an event's message to an endpoint: the same on every attempt. */
export const webhookMessageId = (input: WebhookDeliveryInput): string =>
  `msg_${input.outboxId}_${input.endpointId.replace(/-/g, '')}`;

/** The workflow that delivers a digest's webhooks, started once per digest. */
export const webhookWorkflowId = (digestId: string): string => `webhooks/${digestId}`;

async function outboxEvent(
  db: Kysely<Database>,
  input: WebhookDeliveryInput,
): Promise<NotificationEvent | undefined> {
  const row = await db
    .selectFrom('notification_outbox')
    .select('event')
    .where('id', '=', input.outboxId)
    .where('tenant_id', '=', input.tenantId)
    .executeTakeFirst();
  return row?.event as unknown as NotificationEvent | undefined;
}

/** Whether the tenant has an endpoint that wants any webhook; cheap, so digests without skip all. */
export async function tenantHasWebhooks(db: Kysely<Database>, tenantId: string): Promise<boolean> {
  const row = await db
    .selectFrom('webhook_endpoints')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('enabled', '=', true)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Starts the digest's webhook deliveries as a workflow of their own, so a slow or down endpoint
 * holds up neither a rotation nor the tenant's email and Slack. Called again for the same digest
 * (a retried claim), it starts nothing new.
 */
export async function startWebhookDeliveries(
  db: Kysely<Database>,
  input: WebhookDeliveriesInput,
): Promise<void> {
  if (!(await tenantHasWebhooks(db, input.tenantId))) return;
  const { client, info } = Context.current();
  try {
    await client.workflow.start('webhookDeliveries', {
      workflowId: webhookWorkflowId(input.digestId),
      taskQueue: info.taskQueue,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if ((err as { name?: string }).name !== 'WorkflowExecutionAlreadyStartedError') throw err;
  }
}

export function createWebhookActivities(deps: WebhookDeps) {
  const guard = createAddressGuard(deps.allowedNetworks);
  return {
    /** Which (event, endpoint) pairs a digest owes: tenant events of a webhook kind, by filter. */
    async planWebhookDeliveries(
      input: WebhookDeliveriesInput,
    ): Promise<{ deliveries: WebhookDeliveryInput[] }> {
      const [rows, endpoints] = await Promise.all([
        deps.db
          .selectFrom('notification_outbox')
          .select(['id', 'event'])
          .where('digest_id', '=', input.digestId)
          .where('tenant_id', '=', input.tenantId)
          .where('audience', '=', 'tenant')
          .orderBy('id')
          .execute(),
        deps.db
          .selectFrom('webhook_endpoints')
          .select(['id', 'events'])
          .where('tenant_id', '=', input.tenantId)
          .where('enabled', '=', true)
          .orderBy('created_at')
          .execute(),
      ]);
      const deliveries: WebhookDeliveryInput[] = [];
      for (const row of rows) {
        const kind = (row.event as { kind?: unknown }).kind;
        if (typeof kind !== 'string' || !isWebhookEvent(kind)) continue;
        for (const endpoint of endpoints) {
          const wanted = Array.isArray(endpoint.events) ? endpoint.events : [];
          if (wanted.includes(kind))
            deliveries.push({
              tenantId: input.tenantId,
              outboxId: row.id,
              endpointId: endpoint.id,
            });
        }
      }
      return { deliveries };
    },

    /**
     * One attempt to deliver one event to one endpoint, recorded whatever the outcome. A failed
     * attempt throws (retryable) so Temporal's backoff schedules the next; the message keeps its
     * webhook-id, and each attempt is signed with a fresh timestamp. A destination the address
     * guard refuses is final at once (recorded as failed, non-retryable, as the missing signing
     * secret is): it stays refused until an operator changes ROTOR_WEBHOOK_ALLOWED_NETWORKS.
     */
    async deliverWebhook(input: WebhookDeliveryInput): Promise<WebhookResult> {
      const messageId = webhookMessageId(input);
      if (await webhookDelivered(deps.db, messageId))
        return { sent: false, skipped: 'already sent' };
      const endpoint = await findWebhookEndpoint(deps.db, input.tenantId, input.endpointId);
      if (!endpoint || !endpoint.enabled) return { sent: false, skipped: 'endpoint removed' };
      const event = await outboxEvent(deps.db, input);
      if (!event) return { sent: false, skipped: 'event no longer kept' };
      const secrets = await signingSecrets(deps.vault, input.tenantId, input.endpointId);
      if (secrets.length === 0) {
        throw ApplicationFailure.nonRetryable(
          'webhook delivery failed (no signing secret in Vault)',
          ErrorType.NotificationDeliveryFailed,
        );
      }
      const attempt = Context.current().info.attempt;
      const result = await sendWebhook(
        { url: endpoint.url, id: messageId, body: JSON.stringify(webhookPayload(event)), secrets },
        { guard },
      );
      const ref: WebhookDeliveryRef = {
        tenantId: input.tenantId,
        endpointId: input.endpointId,
        messageId,
        event: {
          kind: event.kind,
          workflowId: event.workflowId,
          rotationId: event.rotationId ?? null,
        },
      };
      if (result.ok) {
        await recordWebhookAttempt(deps.db, ref, {
          status: 'sent',
          attempt,
          httpStatus: result.httpStatus,
        });
        return { sent: true, httpStatus: result.httpStatus };
      }
      if (result.error === BLOCKED_ADDRESS) {
        // The one 'failed' row, written here with the attempt's number; the workflow's
        // recordWebhookFailure then finds it written (same key) and adds nothing.
        await recordWebhookAttempt(deps.db, ref, {
          status: 'failed',
          attempt,
          httpStatus: null,
          error: result.error,
        });
        throw ApplicationFailure.nonRetryable(
          `webhook delivery failed (${result.error})`,
          ErrorType.NotificationDeliveryFailed,
        );
      }
      await recordWebhookAttempt(deps.db, ref, {
        status: 'retrying',
        attempt,
        httpStatus: result.httpStatus,
        error: result.error,
      });
      throw ApplicationFailure.retryable(
        `webhook delivery failed (${result.error})`,
        ErrorType.NotificationDeliveryFailed,
      );
    },

    /** Every attempt failed: one 'failed' row, which the failures listing shows. */
    async recordWebhookFailure(
      input: WebhookDeliveryInput & { attempts: number; error: string },
    ): Promise<void> {
      const event = await outboxEvent(deps.db, input);
      await recordWebhookAttempt(
        deps.db,
        {
          tenantId: input.tenantId,
          endpointId: input.endpointId,
          messageId: webhookMessageId(input),
          event: {
            kind: event?.kind ?? 'unknown',
            workflowId: event?.workflowId ?? null,
            rotationId: event?.rotationId ?? null,
          },
        },
        { status: 'failed', attempt: input.attempts, httpStatus: null, error: input.error },
      );
    },
  };
}
