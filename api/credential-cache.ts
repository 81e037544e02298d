import type pg from 'pg';

/** The channel migration 0019's triggers notify on: `token:<id>`, `key:<id>`, `secret:<id>`. */
export const CREDENTIAL_CHANNEL = 'rotor_credentials';

/** A fresh, unconnected client for the LISTEN connection (engine/clients.ts builds it). */
export type ListenerClientFactory = () => pg.Client;

/** Bounds memory whatever the number of tokens and keys in use; the oldest entry goes first. */
const DEFAULT_MAX_ENTRIES = 10_000;
/** Invalidations remembered to void the fills they overtook; older ones void every older fill. */
const RECENT_INVALIDATIONS = 1_024;
const FIRST_RETRY_MS = 250;
const LAST_RETRY_MS = 5_000;

interface Entry {
  value: unknown;
  /** performance.now() after which the entry is never served. */
  until: number;
  tags: readonly string[];
}

/**
 * Taken before the database read whose result may be cached: the read's start (on this process's
 * monotonic clock) and the cache's generation then. A fill is stored only if none of its rows was
 * invalidated, and the listener did not drop, between the two.
 */
export interface FillTicket {
  readonly generation: number;
  readonly startedAt: number;
}

export interface CredentialCacheOptions {
  /** How long an entry may be served at most; 0 disables the cache (every request reads). */
  ttlSeconds: number;
  /** Without it the cache never serves (every request reads the database), as with a TTL of 0. */
  connect?: ListenerClientFactory;
  maxEntries?: number;
  /** First delay before reconnecting a lost listener (doubling up to 5 s); tests lengthen it. */
  retryMs?: number;
}

/**
 * Verified credentials (a bearer token's principal, an API key's verification) kept for a few
 * seconds, so a busy caller costs no database read per request. It never outlives a revocation:
 *
 * - Every change to a token, a key or a secret's current version is a `NOTIFY` (migration 0019's
 *   triggers, after commit); the entries it concerns are dropped when it arrives.
 * - The cache serves only while its LISTEN connection is established: from the start until
 *   LISTEN succeeds, after any error or disconnect, and until a reconnect has listened again,
 *   every request reads the database. A reconnect starts from an empty cache (notifications
 *   sent while it was away are lost).
 * - A read that overlaps an invalidation of one of its rows, or a lost connection, is not stored
 *   (generation check), so a notification that overtakes the read it concerns is not undone by
 *   that read; invalidations of other rows do not void it.
 * - The API process drops its own entries as soon as it commits a revocation (`invalidate`),
 *   without waiting for its notification.
 * - Each entry lives at most `ttlSeconds`, and never past a token's expiry by the database's
 *   clock (the caller passes the time left, measured from before the read was sent).
 *
 * Keys are the hashes the database stores (SHA-256 of a token, HMAC of an API key), never a
 * presented credential; notifications carry row ids only.
 */
export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byTag = new Map<string, Set<string>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  /** Bumped by every invalidation and every drop. */
  private generation = 0;
  /** Fills whose ticket is older than this are void (a drop, or forgotten invalidations). */
  private floor = 0;
  /** The generation of each recent invalidation, by tag, oldest first. */
  private readonly invalidatedAt = new Map<string, number>();
  private listening = false;
  private stopped = false;
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryMs: number;
  /** Counts for tests and diagnostics: served from memory, read and stored, read bypassing. */
  readonly stats = { hits: 0, misses: 0, bypassed: 0, invalidated: 0 };

  constructor(private readonly options: CredentialCacheOptions) {
    this.ttlMs = options.ttlSeconds * 1000;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.retryMs = options.retryMs ?? FIRST_RETRY_MS;
  }

  /** Whether entries are served now: enabled, and the LISTEN connection is established. */
  get serving(): boolean {
    return this.listening && this.ttlMs > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether any entry came from the row a tag names (`token:<id>`…); for tests and diagnostics. */
  holds(tag: string): boolean {
    return (this.byTag.get(tag)?.size ?? 0) > 0;
  }

  /** Opens the LISTEN connection (and keeps reopening it); a no-op when the cache is disabled. */
  start(): void {
    if (this.ttlMs > 0 && this.options.connect) void this.listen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.drop();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** The entry under `key` if it may be served now; undefined otherwise (read the database). */
  get<T>(key: string): T | undefined {
    if (!this.serving) {
      this.stats.bypassed++;
      return undefined;
    }
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= performance.now()) {
      this.remove(key);
      return undefined;
    }
    this.stats.hits++;
    return entry.value as T;
  }

  /** Call before the database read whose answer `put` may store; undefined: do not store. */
  ticket(): FillTicket | undefined {
    if (!this.serving) return undefined;
    return { generation: this.generation, startedAt: performance.now() };
  }

  /**
   * Stores what a read found, unless the ticket is stale. `tags` name the rows it came from
   * (`token:<id>`, `key:<id>`, `secret:<id>`); `validForMs`, counted from the ticket (before the
   * read was sent, so never later than the truth), caps the entry below the TTL.
   */
  put(
    ticket: FillTicket | undefined,
    key: string,
    value: unknown,
    options: { tags: readonly string[]; validForMs?: number },
  ): void {
    if (!ticket || !this.serving || ticket.generation < this.floor) return;
    // A change to one of its rows committed while it was being read: the read may predate it.
    for (const tag of options.tags) {
      if ((this.invalidatedAt.get(tag) ?? 0) > ticket.generation) return;
    }
    const life = Math.min(this.ttlMs, options.validForMs ?? Infinity);
    if (life <= 0) return;
    this.stats.misses++;
    this.remove(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.remove(oldest.value);
    }
    this.entries.set(key, { value, until: ticket.startedAt + life, tags: options.tags });
    for (const tag of options.tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  /**
   * Drops every entry a row change concerns (`token:<id>`, `key:<id>`, `secret:<id>`), and
   * voids the fills in flight. Called for each notification, and by the API right after it
   * commits a revocation of its own.
   */
  invalidate(tag: string): void {
    this.generation++;
    this.stats.invalidated++;
    this.invalidatedAt.delete(tag);
    this.invalidatedAt.set(tag, this.generation);
    if (this.invalidatedAt.size > RECENT_INVALIDATIONS) {
      const [oldest, at] = this.invalidatedAt.entries().next().value ?? ['', 0];
      this.invalidatedAt.delete(oldest);
      // Forgotten, so every fill that might have overtaken it is void.
      this.floor = Math.max(this.floor, at);
    }
    const keys = this.byTag.get(tag);
    if (!keys) return;
    for (const key of [...keys]) this.remove(key);
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(tag);
    }
  }

  /** Forgets everything and voids the fills in flight. */
  private drop(): void {
    this.generation++;
    this.floor = this.generation;
    this.invalidatedAt.clear();
    this.entries.clear();
    this.byTag.clear();
  }

  private async listen(): Promise<void> {
    const connect = this.options.connect;
    if (this.stopped || !connect) return;
    const client = connect();
    this.client = client;
    let lost = false;
    const onLost = (): void => {
      if (lost) return;
      lost = true;
      this.lost(client);
    };
    // A dropped connection must never crash the API: it only stops the cache serving.
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (message) => {
      if (message.channel === CREDENTIAL_CHANNEL && message.payload) {
        this.invalidate(message.payload);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CREDENTIAL_CHANNEL}`);
    } catch {
      onLost();
      return;
    }
    if (lost || this.stopped) return;
    // Whatever was cached before this connection listened is not covered by its notifications.
    this.drop();
    this.listening = true;
    this.retryMs = this.options.retryMs ?? FIRST_RETRY_MS;
  }

  private lost(client: pg.Client): void {
    this.listening = false;
    this.drop();
    if (this.client === client) this.client = undefined;
    client.end().catch(() => undefined);
    if (this.stopped) return;
    this.retry = setTimeout(() => void this.listen(), this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, Math.max(LAST_RETRY_MS, this.retryMs));
  }
}
