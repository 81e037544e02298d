import type { LookupAddress } from 'node:dns';
import { lookup as systemLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { BLOCKED_ADDRESS, createAddressGuard, ipLiteralOf } from './address-guard';
import type { AddressGuard } from './address-guard';
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

/** Every address a hostname resolves to (of `family`, or both when 0), as dns.lookup answers. */
export type ResolveHost = (hostname: string, family: 0 | 4 | 6) => Promise<LookupAddress[]>;

export interface SendWebhookOptions {
  /** Which addresses may be connected to; public ones only when absent. */
  guard?: AddressGuard;
  /** The system resolver (dns.lookup) unless a test makes a name resolve where it wants. */
  resolve?: ResolveHost;
  now?: () => number;
  timeoutMs?: number;
  /** Tests only: the certificate authorities https trusts instead of Node's bundled ones. */
  ca?: string;
}

const PUBLIC_ONLY = createAddressGuard();

const systemResolve: ResolveHost = (hostname, family) =>
  systemLookup(hostname, { all: true, family });

/** A destination the guard refused: its code is the attempt's error, and nothing else is said. */
class BlockedAddressError extends Error {
  readonly code = BLOCKED_ADDRESS;
  constructor() {
    super('webhook destination is an internal address');
    this.name = 'BlockedAddressError';
  }
}

/** Raised when an attempt outlives its time; named as AbortSignal.timeout names its own. */
class AttemptTimeoutError extends Error {
  constructor() {
    super('webhook attempt timed out');
    this.name = 'TimeoutError';
  }
}

/**
 * The socket's name resolution: every address the name resolves to must pass the guard, or the
 * connection is refused before it is made. The approved addresses are the ones the socket then
 * connects to, so a name cannot pass here and resolve elsewhere a moment later (DNS rebinding).
 */
function guardedLookup(guard: AddressGuard, resolve: ResolveHost): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : 0;
    resolve(hostname, family).then(
      (addresses) => {
        const [first] = addresses;
        if (!first) {
          callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '', 0);
        } else if (addresses.some((a) => !guard.allows(a.address))) {
          callback(new BlockedAddressError(), '', 0);
        } else if (options.all) {
          callback(null, addresses);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

/**
 * One signed POST (Standard Webhooks headers). 2xx is delivered; anything else, a redirect included
 * (never followed: a signed body goes only where the tenant said), is a failed attempt. The error
 * names an HTTP status or a network code, never the URL, the body or what the receiver answered.
 *
 * The destination must pass the guard where the connection is made: an IP literal before any
 * socket is opened (Node does not resolve literals), a name at the socket's own lookup, for every
 * address it resolves to. A refused one is the error `BLOCKED_ADDRESS` with no HTTP status.
 */
export async function sendWebhook(
  message: WebhookMessage,
  options: SendWebhookOptions = {},
): Promise<WebhookAttempt> {
  const guard = options.guard ?? PUBLIC_ONLY;
  let url: URL;
  try {
    url = new URL(message.url);
  } catch {
    return { ok: false, httpStatus: null, error: 'INVALID_URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, httpStatus: null, error: 'INVALID_URL' };
  }
  const literal = ipLiteralOf(url.hostname);
  if (literal !== null && !guard.allows(literal)) {
    return { ok: false, httpStatus: null, error: BLOCKED_ADDRESS };
  }
  const timestamp = Math.floor((options.now ?? Date.now)() / 1000);
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(message.body)),
    'user-agent': 'Rotor-Webhooks/1',
    'webhook-id': message.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(message.secrets, message.id, timestamp, message.body),
  };
  try {
    const status = await post(url, headers, message.body, {
      lookup: guardedLookup(guard, options.resolve ?? systemResolve),
      timeoutMs: options.timeoutMs ?? WEBHOOK_TIMEOUT_MS,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });
    if (status >= 200 && status < 300) return { ok: true, httpStatus: status };
    return { ok: false, httpStatus: status, error: `HTTP ${status}` };
  } catch (err) {
    return { ok: false, httpStatus: null, error: networkCode(err) };
  }
}

/**
 * The POST itself, on a connection of its own (no pooled socket outlives it), resolving with the
 * status once the answer's head arrives. https verifies the certificate against the URL's hostname
 * (sent as SNI), whatever address the name resolved to.
 */
function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  options: { lookup: LookupFunction; timeoutMs: number; ca?: string },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? https.request : http.request;
    const req = send(
      url,
      {
        method: 'POST',
        headers,
        agent: false,
        lookup: options.lookup,
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
      },
      (res) => {
        clearTimeout(timer);
        // The answer's body is not read: nothing a receiver says is kept or logged.
        res.on('error', () => undefined);
        res.destroy();
        resolve(res.statusCode ?? 0);
      },
    );
    const timer = setTimeout(() => req.destroy(new AttemptTimeoutError()), options.timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

/** A network failure as a code (ECONNREFUSED, ENOTFOUND, TIMEOUT…): no URL, no message text. */
function networkCode(err: unknown): string {
  const e = err as { name?: string; code?: string; errors?: { code?: string }[] };
  if (e.name === 'TimeoutError') return 'TIMEOUT';
  // Node tries each address of a name in turn; when all fail, the first one's code says why.
  const code = e.code ?? e.errors?.[0]?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? code : 'NETWORK_ERROR';
}
