import { heartbeat } from '@temporalio/activity';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';

/** Rows deleted per statement: short transactions, so the notifiers' claims never wait long. */
export const OUTBOX_PRUNE_BATCH = 1000;

export interface OutboxRetentionInput {
  /** Delivered rows whose delivery is older than this are deleted. */
  olderThanSeconds: number;
  /** Rows per statement (tests make it small to see several batches). */
  batchSize?: number;
}

/**
 * Deletes notification-outbox rows delivered (or given up on, recorded in
 * notification_deliveries) longer ago than the retention period, oldest first, in batches. A row
 * still waiting or claimed by a digest that has not finished has no `delivered_at`, so it is never
 * deleted, however old. What went out stays provable in notification_deliveries and the audit trail.
 */
export async function pruneDeliveredOutbox(
  db: Kysely<Database>,
  input: OutboxRetentionInput,
  onBatch: () => void = () => undefined,
): Promise<{ rows: number; batches: number }> {
  const before = new Date(Date.now() - input.olderThanSeconds * 1000);
  const batchSize = input.batchSize ?? OUTBOX_PRUNE_BATCH;
  let rows = 0;
  let batches = 0;
  for (;;) {
    const deleted = await db
      .deleteFrom('notification_outbox')
      .where(
        'id',
        'in',
        db
          .selectFrom('notification_outbox')
          .select('id')
          .where('delivered_at', 'is not', null)
          .where('delivered_at', '<', before)
          .orderBy('delivered_at')
          .orderBy('id')
          .limit(batchSize),
      )
      .executeTakeFirst();
    const n = Number(deleted.numDeletedRows);
    rows += n;
    batches += 1;
    onBatch();
    if (n < batchSize) return { rows, batches };
  }
}

/** The retention schedule's one step (workflows/outbox-retention.ts). */
export function createOutboxRetentionActivities({ db }: { db: Kysely<Database> }) {
  return {
    async pruneDeliveredOutbox(
      input: OutboxRetentionInput,
    ): Promise<{ rows: number; batches: number }> {
      // A long prune says it is alive between batches; a retry starts over, which is harmless.
      return pruneDeliveredOutbox(db, input, () => heartbeat());
    },
  };
}
