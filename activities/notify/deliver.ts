import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain';
import type { Audience, NotificationEvent } from '../../domain';
import type { NotifyDeps } from './deps';
import { claimDigest, completeDigest, digestEvents } from './outbox';
import type { ClaimInput, ClaimedDigest } from './outbox';
import { renderDigest } from './templates';
import { startWebhookDeliveries } from './webhooks';

export interface DigestInput {
  /** Unique per digest: a retried delivery is recorded once. */
  digestId: string;
  tenantId: string;
  audience: Audience;
  /**
   * The events, as the signal-fed notifier passed them. Absent for a digest claimed from the
   * outbox: the activity reads them there, so they never enter the notifier's history.
   */
  events?: NotificationEvent[];
}

type LoadedDigest = DigestInput & { events: NotificationEvent[] };

async function load(deps: NotifyDeps, input: DigestInput): Promise<LoadedDigest> {
  return input.events
    ? { ...input, events: input.events }
    : { ...input, events: await digestEvents(deps.db, input.digestId, input.audience) };
}

const deliveryKey = (input: DigestInput, channel: 'email' | 'slack'): string =>
  `${input.digestId}:${input.audience}:${channel}`;

/** Whether this digest already went out on this channel (a retry after the send was recorded). */
async function alreadySent(
  deps: NotifyDeps,
  input: DigestInput,
  channel: 'email' | 'slack',
): Promise<boolean> {
  const row = await deps.db
    .selectFrom('notification_deliveries')
    .select('status')
    .where('idempotency_key', '=', deliveryKey(input, channel))
    .executeTakeFirst();
  return row?.status === 'sent';
}

export type DeliveryResult = { sent: true; recipients: number } | { sent: false; skipped: string };

interface TenantSettings {
  emails?: string[];
  slackChannel?: string;
}

async function tenantSettings(deps: NotifyDeps, tenantId: string): Promise<TenantSettings> {
  const row = await deps.db
    .selectFrom('tenants')
    .select('notification_settings')
    .where('id', '=', tenantId)
    .executeTakeFirst();
  // Stored as jsonb by the API; read defensively so a malformed row sends nothing, not garbage.
  const raw: Record<string, unknown> = row?.notification_settings ?? {};
  const emails = Array.isArray(raw.emails)
    ? raw.emails.filter((e): e is string => typeof e === 'string')
    : [];
  return {
    emails,
    ...(typeof raw.slackChannel === 'string' ? { slackChannel: raw.slackChannel } : {}),
  };
}

async function emailRecipients(deps: NotifyDeps, input: LoadedDigest): Promise<string[]> {
  if (input.audience === 'tenant') return (await tenantSettings(deps, input.tenantId)).emails ?? [];
  return deps.config[input.audience].emails;
}

async function slackChannels(deps: NotifyDeps, input: LoadedDigest): Promise<string[]> {
  if (input.audience === 'tenant') {
    const channel = (await tenantSettings(deps, input.tenantId)).slackChannel;
    return channel ? [channel] : [];
  }
  if (input.audience === 'ops')
    return deps.config.ops.slackChannel ? [deps.config.ops.slackChannel] : [];
  const { slackChannel, escalationSlackChannel } = deps.config.security;
  // Escalations also go to the second channel: that is what escalating means.
  const escalated = input.events.some((e) => e.kind === 'approval.escalated');
  return [slackChannel, escalated ? escalationSlackChannel : undefined].filter(
    (c): c is string => !!c,
  );
}

/** One row per digest, audience and channel, whatever the outcome; a retried write is a no-op. */
async function recordDelivery(
  deps: NotifyDeps,
  input: LoadedDigest,
  channel: 'email' | 'slack',
  outcome: { status: 'sent' } | { status: 'failed'; error: string },
): Promise<void> {
  await deps.db
    .insertInto('notification_deliveries')
    .values({
      tenant_id: input.tenantId,
      audience: input.audience,
      channel,
      status: outcome.status,
      event_count: input.events.length,
      // Which events, by kind and id only: enough to find them, nothing a message said.
      events: JSON.stringify(
        input.events.map((e) => ({
          kind: e.kind,
          workflowId: e.workflowId,
          rotationId: e.rotationId ?? null,
        })),
      ),
      error: outcome.status === 'failed' ? outcome.error.slice(0, 500) : null,
      idempotency_key: deliveryKey(input, channel),
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .execute();
}

/** Failure types and messages carry codes only: never the message, never a recipient's data. */
function deliveryFailure(channel: string, code: string, retryable: boolean): ApplicationFailure {
  const message = `${channel} delivery failed (${code})`;
  return retryable
    ? ApplicationFailure.retryable(message, ErrorType.NotificationDeliveryFailed)
    : ApplicationFailure.nonRetryable(message, ErrorType.NotificationDeliveryFailed);
}

// Slack answers these for a bad token or channel: retrying cannot fix them.
const PERMANENT_SLACK_ERRORS = [
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_blocks',
];

export function createDeliveryActivities(deps: NotifyDeps) {
  return {
    async deliverEmail(requested: DigestInput): Promise<DeliveryResult> {
      if (!deps.mailer || !deps.config.smtp)
        return { sent: false, skipped: 'email is not configured' };
      if (await alreadySent(deps, requested, 'email'))
        return { sent: false, skipped: 'already sent' };
      const input = await load(deps, requested);
      if (input.events.length === 0) return { sent: false, skipped: 'no events' };
      const to = await emailRecipients(deps, input);
      if (to.length === 0) return { sent: false, skipped: `no ${input.audience} email recipients` };
      const digest = renderDigest(input.tenantId, input.audience, input.events);
      try {
        await deps.mailer.sendMail({
          from: deps.config.smtp.from,
          to,
          subject: digest.subject,
          text: digest.text,
          html: digest.html,
          headers: { 'X-Rotor-Digest': input.digestId },
        });
      } catch (err) {
        const code = (err as { code?: string; responseCode?: number }).code ?? 'EUNKNOWN';
        const responseCode = (err as { responseCode?: number }).responseCode;
        // 5xx from the server is a permanent refusal (bad recipient, policy); anything else may pass later.
        throw deliveryFailure(
          'email',
          responseCode ? `${code} ${responseCode}` : code,
          !(responseCode && responseCode >= 500),
        );
      }
      await recordDelivery(deps, input, 'email', { status: 'sent' });
      return { sent: true, recipients: to.length };
    },

    async deliverSlack(requested: DigestInput): Promise<DeliveryResult> {
      if (!deps.slack) return { sent: false, skipped: 'Slack is not configured' };
      if (await alreadySent(deps, requested, 'slack'))
        return { sent: false, skipped: 'already sent' };
      const input = await load(deps, requested);
      if (input.events.length === 0) return { sent: false, skipped: 'no events' };
      const channels = await slackChannels(deps, input);
      if (channels.length === 0)
        return { sent: false, skipped: `no ${input.audience} Slack channel` };
      const digest = renderDigest(input.tenantId, input.audience, input.events);
      for (const channel of channels) {
        try {
          // The Slack client itself waits out HTTP 429 for Retry-After seconds and tries again.
          await deps.slack.chat.postMessage({
            channel,
            text: digest.subject,
            blocks: digest.blocks,
          });
        } catch (err) {
          const code =
            (err as { data?: { error?: string }; code?: string }).data?.error ??
            (err as { code?: string }).code ??
            'unknown';
          throw deliveryFailure('Slack', code, !PERMANENT_SLACK_ERRORS.includes(code));
        }
      }
      await recordDelivery(deps, input, 'slack', { status: 'sent' });
      return { sent: true, recipients: channels.length };
    },

    /** A digest that could not be delivered after every retry: kept, counted, visible. */
    async recordDeliveryFailure(
      input: DigestInput & { channel: 'email' | 'slack'; error: string },
    ): Promise<void> {
      await recordDelivery(deps, await load(deps, input), input.channel, {
        status: 'failed',
        error: input.error,
      });
    },

    /** The notifier's next digest: the tenant's oldest waiting events, taken once. */
    async claimNotificationDigest(input: ClaimInput): Promise<ClaimedDigest> {
      const claimed = await claimDigest(deps.db, input);
      // Webhooks go out from a workflow of their own (started once per digest): a down endpoint
      // holds up neither this digest's email and Slack nor any rotation.
      if (claimed.audiences.includes('tenant')) {
        await startWebhookDeliveries(deps.db, input);
      }
      return claimed;
    },

    /** The digest has gone out on every channel (or failed for good, recorded as such). */
    async completeNotificationDigest(input: { digestId: string }): Promise<void> {
      await completeDigest(deps.db, input.digestId);
    },
  };
}
