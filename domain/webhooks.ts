import { NotificationKind } from './notifications';

/**
 * Webhooks: machines hear about rotations by a signed HTTP POST (the Standard Webhooks scheme).
 * An endpoint row holds the URL and which events it wants; its signing secret lives only in
 * Vault, at webhookSecretPath(tenant, id), never in the engine database, workflow history or logs.
 */
export const WEBHOOK_EVENTS = [
  NotificationKind.RotationCompleted,
  NotificationKind.RotationFailed,
  NotificationKind.RotationUpcoming,
  NotificationKind.CredentialRevoked,
  NotificationKind.ValueNeeded,
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Sent by `rotor webhooks test`: shaped like the others, about no secret. */
export const WEBHOOK_TEST_EVENT = 'webhook.test';

export function isWebhookEvent(kind: string): kind is WebhookEvent {
  return (WEBHOOK_EVENTS as readonly string[]).includes(kind);
}

/** Longest URL an endpoint may have (what most servers and proxies accept). */
export const MAX_WEBHOOK_URL_LENGTH = 2048;
/** Most endpoints one tenant may have. */
export const MAX_WEBHOOK_ENDPOINTS_PER_TENANT = 20;
/** Standard Webhooks' prefix for a base64 signing secret. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** Where an endpoint's signing secret lives in Vault's KV mount; apart from every secret's path. */
export function webhookSecretPath(tenantId: string, endpointId: string): string {
  return `rotor-webhooks/${tenantId}/${endpointId}`;
}

/**
 * Why a URL cannot be a webhook endpoint, or null when it can: it must parse, be http or https,
 * carry no user:password@ (a credential would sit in the engine database and in logs), and stay
 * within MAX_WEBHOOK_URL_LENGTH. The reason never repeats the URL.
 */
export function webhookUrlProblem(raw: string): string | null {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH)
    return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use http or https';
  if (url.username !== '' || url.password !== '')
    return 'must not carry a user name or password; authenticate deliveries by their signature';
  if (url.hash !== '') return 'must not have a fragment';
  return null;
}
