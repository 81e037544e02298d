import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../db';

/**
 * Counts API-key verifications in memory and writes them in one statement every few seconds, so
 * a busy key costs no database write per request. A crash loses at most one interval of counts;
 * acceptable for usage statistics, never for the verification itself (which reads the database).
 */
export class ApiKeyUsage {
  private pending = new Map<string, { count: number; lastUsedAt: Date }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Kysely<Database>) {}

  record(keyId: string, at = new Date()): void {
    const entry = this.pending.get(keyId);
    if (entry) {
      entry.count += 1;
      entry.lastUsedAt = at;
    } else this.pending.set(keyId, { count: 1, lastUsedAt: at });
  }

  /** Writes what has been counted since the last flush; returns how many keys were updated. */
  async flush(): Promise<number> {
    if (this.pending.size === 0) return 0;
    const batch = this.pending;
    this.pending = new Map();
    const rows = [...batch].map(
      ([id, u]) => sql`(${id}::uuid, ${u.count}::bigint, ${u.lastUsedAt}::timestamptz)`,
    );
    try {
      await sql`
        update api_keys set
          use_count = api_keys.use_count + u.count,
          last_used_at = greatest(api_keys.last_used_at, u.at)
        from (values ${sql.join(rows)}) as u(id, count, at)
        where api_keys.id = u.id`.execute(this.db);
    } catch {
      // Put the counts back for the next attempt rather than lose them to a database blip.
      for (const [id, u] of batch) {
        const now = this.pending.get(id);
        this.pending.set(id, {
          count: u.count + (now?.count ?? 0),
          lastUsedAt: now && now.lastUsedAt > u.lastUsedAt ? now.lastUsedAt : u.lastUsedAt,
        });
      }
      return 0;
    }
    return batch.size;
  }

  start(everySeconds: number): void {
    this.timer = setInterval(() => void this.flush(), everySeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
