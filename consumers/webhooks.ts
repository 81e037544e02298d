import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Receiver-side check of a Rotor webhook (the Standard Webhooks scheme). Stands alone like the
 * rest of consumers/: Node's crypto only, no import from Rotor. Copy this file beside your
 * receiver, or import it from here.
 */

/** Why a delivery was refused: a small fixed set, so a receiver can answer and log by code. */
export const WebhookRefusal = {
  /** webhook-id, webhook-timestamp or webhook-signature is missing. */
  MissingHeaders: 'missing_headers',
  /** The timestamp is not whole seconds, or lies outside the tolerance (old, or in the future). */
  BadTimestamp: 'bad_timestamp',
  /** No v1 signature matches the body with any of the secrets given. */
  BadSignature: 'bad_signature',
  /** This webhook-id was already accepted: a replay (or a duplicate delivery). */
  Replayed: 'replayed',
  /** Signed correctly, but the body is not the JSON Rotor sends. */
  Malformed: 'malformed',
} as const;
export type WebhookRefusal = (typeof WebhookRefusal)[keyof typeof WebhookRefusal];

/** A refused delivery. The message names the reason, never the body, a signature or a secret. */
export class WebhookVerificationError extends Error {
  constructor(readonly code: WebhookRefusal) {
    super(`webhook refused: ${code}`);
    this.name = 'WebhookVerificationError';
  }
}

/** A verified event: ids, names, versions and times; Rotor never sends a secret value. */
export interface RotorWebhookEvent {
  /** The webhook-id: the same for every retry of one message. */
  id: string;
  /** rotation.completed, rotation.failed, rotation.upcoming, credential.revoked, value.needed, webhook.test */
  type: string;
  /** When it happened (ISO). */
  timestamp: string;
  data: Record<string, string | number | null>;
}

/**
 * Remembers accepted webhook-ids until they expire. `firstSeen` records the id and says whether
 * it was new; give a shared store (Redis SET NX with an expiry, a unique database row) when
 * several receiver processes share one endpoint.
 */
export interface ReplayStore {
  firstSeen(id: string, expiresAtMs: number): boolean | Promise<boolean>;
}

/** One process's memory of accepted ids; expired ones are dropped as new ones arrive. */
export function memoryReplayStore(now: () => number = Date.now): ReplayStore {
  const seen = new Map<string, number>();
  return {
    firstSeen(id, expiresAtMs) {
      const t = now();
      for (const [key, expires] of seen) if (expires <= t) seen.delete(key);
      if (seen.has(id)) return false;
      seen.set(id, expiresAtMs);
      return true;
    },
  };
}

export interface WebhookVerifierOptions {
  /** The endpoint's signing secret (`whsec_…`); during a rotation, the new and the old one. */
  secret: string | readonly string[];
  /** How far webhook-timestamp may be from now, either way (default 300 s). */
  toleranceSeconds?: number;
  /** Where accepted ids are remembered (default: this process's memory). */
  replay?: ReplayStore;
  now?: () => number;
}

type HeaderBag =
  { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof headers.get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const bag = headers as Record<string, string | string[] | undefined>;
  const raw = bag[name] ?? Object.entries(bag).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(raw) ? raw[0] : raw;
}

const keyOf = (secret: string): Buffer =>
  Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');

/**
 * Builds a verifier for one endpoint. `verify(headers, rawBody)` checks, in this order: the three
 * headers are there; the timestamp is within tolerance; a `v1,` signature matches the HMAC-SHA-256
 * of `${id}.${timestamp}.${rawBody}` under one of the secrets (compared in constant time); the id
 * was not accepted before. Pass the body exactly as received (bytes or string), before any JSON
 * parsing: re-serialised JSON does not verify.
 */
export function createWebhookVerifier(options: WebhookVerifierOptions) {
  const secrets = (typeof options.secret === 'string' ? [options.secret] : options.secret).map(
    keyOf,
  );
  if (secrets.length === 0 || secrets.some((k) => k.length === 0)) {
    throw new Error('createWebhookVerifier needs the endpoint’s signing secret (whsec_…)');
  }
  const tolerance = options.toleranceSeconds ?? 300;
  const now = options.now ?? Date.now;
  const replay = options.replay ?? memoryReplayStore(now);

  return {
    async verify(headers: HeaderBag, rawBody: string | Uint8Array): Promise<RotorWebhookEvent> {
      const id = header(headers, 'webhook-id');
      const timestamp = header(headers, 'webhook-timestamp');
      const signatures = header(headers, 'webhook-signature');
      if (!id || !timestamp || !signatures) {
        throw new WebhookVerificationError(WebhookRefusal.MissingHeaders);
      }
      if (!/^\d{1,12}$/.test(timestamp)) {
        throw new WebhookVerificationError(WebhookRefusal.BadTimestamp);
      }
      const sentAt = Number(timestamp);
      const nowSeconds = Math.floor(now() / 1000);
      if (Math.abs(nowSeconds - sentAt) > tolerance) {
        throw new WebhookVerificationError(WebhookRefusal.BadTimestamp);
      }
      const body =
        typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody);
      const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), body]);
      const expected = secrets.map((key) => createHmac('sha256', key).update(signed).digest());
      const matches = signatures.split(' ').some((entry) => {
        const [version, encoded] = entry.split(',', 2);
        if (version !== 'v1' || !encoded) return false;
        const given = Buffer.from(encoded, 'base64');
        return expected.some((e) => e.length === given.length && timingSafeEqual(e, given));
      });
      if (!matches) throw new WebhookVerificationError(WebhookRefusal.BadSignature);
      // Checked after the signature, so forged ids cannot fill the store. Remembered for as long
      // as a timestamp could still pass.
      if (!(await replay.firstSeen(id, (sentAt + tolerance) * 1000 + 1000))) {
        throw new WebhookVerificationError(WebhookRefusal.Replayed);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new WebhookVerificationError(WebhookRefusal.Malformed);
      }
      const p = parsed as Partial<RotorWebhookEvent>;
      if (typeof p.type !== 'string' || typeof p.data !== 'object' || p.data === null) {
        throw new WebhookVerificationError(WebhookRefusal.Malformed);
      }
      return {
        id,
        type: p.type,
        timestamp: typeof p.timestamp === 'string' ? p.timestamp : '',
        data: p.data,
      };
    },
  };
}
