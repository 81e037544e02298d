import { BurstKey } from './security-metrics';

/** Defaults: ten 401/403 answers to one token or one IP within a minute is a burst. */
export const DEFAULT_AUTH_BURST = { threshold: 10, windowSeconds: 60 } as const;

/** Keys tracked at most; the oldest is dropped beyond it, so a flood of IPs cannot grow memory. */
const MAX_TRACKED = 10_000;

export interface AuthBurstSettings {
  threshold: number;
  windowSeconds: number;
}

/** A burst that has just been detected: what it is keyed by, never a token value. */
export interface AuthBurst {
  by: BurstKey;
  /** The token's id (a database id, not the token) or the client IP. */
  key: string;
  count: number;
  windowSeconds: number;
}

/**
 * Counts 401/403 answers per token id and per client IP in a sliding window. When one key reaches
 * the threshold, `record` reports one burst; the same key reports again only after its window has
 * emptied, so an attacker hammering the API raises the burst counter and the log once per
 * episode, not once per request. In-process: each API replica counts what it answers.
 */
export class AuthBurstDetector {
  private readonly seen = new Map<string, { times: number[]; reported: boolean }>();

  constructor(
    private readonly settings: AuthBurstSettings = DEFAULT_AUTH_BURST,
    private readonly now: () => number = Date.now,
  ) {}

  /** Notes one refusal; returns the bursts it completes (at most one per key). */
  record(refusal: { tokenId?: string | null | undefined; ip?: string | null }): AuthBurst[] {
    const bursts: AuthBurst[] = [];
    const keys: [BurstKey, string | null | undefined][] = [
      [BurstKey.Token, refusal.tokenId],
      [BurstKey.Ip, refusal.ip],
    ];
    for (const [by, key] of keys) {
      if (!key) continue;
      const burst = this.note(by, key);
      if (burst) bursts.push(burst);
    }
    return bursts;
  }

  private note(by: BurstKey, key: string): AuthBurst | null {
    const id = `${by}:${key}`;
    const now = this.now();
    const since = now - this.settings.windowSeconds * 1000;
    const entry = this.seen.get(id) ?? { times: [], reported: false };
    const times = entry.times.filter((t) => t > since);
    // A window that emptied ends the episode: the next burst for this key is a new one.
    const reported = times.length === 0 ? false : entry.reported;
    times.push(now);
    // Re-inserted, so the Map's order is least recently refused first, which eviction drops.
    this.seen.delete(id);
    const fires = !reported && times.length >= this.settings.threshold;
    this.seen.set(id, {
      times: times.slice(-this.settings.threshold),
      reported: reported || fires,
    });
    while (this.seen.size > MAX_TRACKED) {
      const oldest = this.seen.keys().next().value;
      if (oldest === undefined) break;
      this.seen.delete(oldest);
    }
    return fires
      ? { by, key, count: times.length, windowSeconds: this.settings.windowSeconds }
      : null;
  }
}
