import { signWebhook } from './signing';

/** How long one attempt may take, connect to last byte, before it counts as failed. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

export interface WebhookMessage {
  url: string;
  /** Stable across retries of one message, so a receiver can refuse a replay or a duplicate. */
  id: string;
  body: string;
  /** Current signing secret first; the previous one too while it is still honoured. */
  secrets: readonly string[];
}

/** How one attempt went: the receiver's HTTP status when it answered, a short code otherwise. */
export type WebhookAttempt =
  { ok: true; httpStatus: number } | { ok: false; httpStatus: number | null; error: string };

/**
 * One signed POST (Standard Webhooks headers). 2xx is delivered; anything else, a redirect included
 * (never followed: a signed body goes only where the tenant said), is a failed attempt. The error
 * names an HTTP status or a network code, never the URL, the body or what the receiver answered.
 */
export async function sendWebhook(
  message: WebhookMessage,
  options: { fetch?: typeof fetch; now?: () => number; timeoutMs?: number } = {},
): Promise<WebhookAttempt> {
  const send = options.fetch ?? fetch;
  const timestamp = Math.floor((options.now ?? Date.now)() / 1000);
  try {
    const res = await send(message.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? WEBHOOK_TIMEOUT_MS),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Rotor-Webhooks/1',
        'webhook-id': message.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(message.secrets, message.id, timestamp, message.body),
      },
      body: message.body,
    });
    // The answer's body is not read: nothing a receiver says is kept or logged.
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, httpStatus: res.status };
    return { ok: false, httpStatus: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, httpStatus: null, error: networkCode(err) };
  }
}

/** A fetch failure as a code (ECONNREFUSED, ENOTFOUND, TIMEOUT…): no URL, no message text. */
function networkCode(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return 'TIMEOUT';
  const code = e.cause?.code ?? e.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? code : 'NETWORK_ERROR';
}
