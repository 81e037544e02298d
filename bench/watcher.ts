import type { Kysely } from 'kysely';
import type { Database } from '../db';

/** When a rotation was promoted and finished, as the engine database recorded it (ms epoch). */
export interface RotationTimes {
  promotedAt: number;
  finishedAt: number;
}

interface Pending {
  promotedAt?: number;
  finishedAt?: number;
  failed?: string;
  waiters: {
    until: 'promoted' | 'finished';
    resolve: (t: number) => void;
    reject: (e: Error) => void;
  }[];
}

const POLL_MS = 20;

/**
 * Watches rotations reach promoted and finished, for both paths alike: one query every 20 ms
 * while anything is pending, by the audit rows' unique idempotency keys (`<id>:promoted`,
 * `<id>:finished`), so its cost grows with the rotations in flight, never with the table. The
 * times are the audit rows' own (written by the activity, same clock as the requests), so the
 * poll interval adds nothing to a measured latency; it only delays when a closed-loop slot frees.
 */
export class RotationWatcher {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  /** Queries made, to show the harness's own load. */
  queries = 0;

  constructor(private readonly db: Kysely<Database>) {}

  /** Resolves with the time the rotation was promoted (or finished); rejects if it failed. */
  until(rotationId: string, until: 'promoted' | 'finished'): Promise<number> {
    const entry = this.entry(rotationId);
    const known = until === 'promoted' ? entry.promotedAt : entry.finishedAt;
    if (known !== undefined) return Promise.resolve(known);
    if (entry.failed) return Promise.reject(new Error(entry.failed));
    return new Promise((resolve, reject) => {
      entry.waiters.push({ until, resolve, reject });
      this.schedule();
    });
  }

  async times(rotationId: string): Promise<RotationTimes> {
    const promotedAt = await this.until(rotationId, 'promoted');
    const finishedAt = await this.until(rotationId, 'finished');
    this.pending.delete(rotationId);
    return { promotedAt, finishedAt };
  }

  /** A rotation that will never write its rows (the baseline's chain threw): its waiters fail. */
  fail(rotationId: string, message: string): void {
    const entry = this.entry(rotationId);
    entry.failed = message;
    this.settle(entry);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private entry(rotationId: string): Pending {
    let entry = this.pending.get(rotationId);
    if (!entry) {
      entry = { waiters: [] };
      this.pending.set(rotationId, entry);
    }
    return entry;
  }

  private schedule(): void {
    if (this.timer || this.polling) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll();
    }, POLL_MS);
  }

  private async poll(): Promise<void> {
    const keys: string[] = [];
    for (const [id, entry] of this.pending) {
      if (entry.waiters.length === 0) continue;
      if (entry.promotedAt === undefined) keys.push(`${id}:promoted`);
      if (entry.finishedAt === undefined) keys.push(`${id}:finished`);
    }
    if (keys.length === 0) return;
    this.polling = true;
    try {
      this.queries += 1;
      const rows = await this.db
        .selectFrom('audit_events')
        .select(['rotation_id', 'action', 'occurred_at'])
        .where('idempotency_key', 'in', keys)
        .execute()
        // A failed poll is retried on the next tick; the run stops only on a rotation's failure.
        .catch(() => []);
      for (const row of rows) {
        const entry = row.rotation_id ? this.pending.get(row.rotation_id) : undefined;
        if (!entry) continue;
        const at = row.occurred_at.getTime();
        if (row.action === 'rotation.promoted') entry.promotedAt = at;
        else if (row.action === 'rotation.completed') entry.finishedAt = at;
        else entry.failed = `rotation ${row.rotation_id} ended ${row.action}`;
      }
      for (const entry of this.pending.values()) this.settle(entry);
    } finally {
      this.polling = false;
    }
    if ([...this.pending.values()].some((e) => e.waiters.length > 0)) this.schedule();
  }

  private settle(entry: Pending): void {
    entry.waiters = entry.waiters.filter((w) => {
      const at = w.until === 'promoted' ? entry.promotedAt : entry.finishedAt;
      if (at !== undefined) w.resolve(at);
      else if (entry.failed) w.reject(new Error(entry.failed));
      else return true;
      return false;
    });
  }
}
