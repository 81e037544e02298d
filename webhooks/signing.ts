import { createHmac, randomBytes } from 'node:crypto';
import { WEBHOOK_SECRET_PREFIX } from '../domain';

/** A new signing secret: `whsec_` and 32 random bytes in base64 (Standard Webhooks' form). */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The HMAC key a `whsec_…` secret stands for: the bytes after the prefix, base64-decoded. */
function keyOf(secret: string): Buffer {
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX)
    ? secret.slice(WEBHOOK_SECRET_PREFIX.length)
    : secret;
  return Buffer.from(encoded, 'base64');
}

/**
 * The `webhook-signature` header for one message: `v1,<base64 HMAC-SHA-256 of id.timestamp.body>`
 * for each secret, space-separated (two while a rotated secret's predecessor is still honoured).
 */
export function signWebhook(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): string {
  return secrets
    .map(
      (s) =>
        `v1,${createHmac('sha256', keyOf(s)).update(`${id}.${timestamp}.${body}`).digest('base64')}`,
    )
    .join(' ');
}
