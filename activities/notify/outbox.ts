import type { Kysely } from 'kysely';
import { wellFormedJson } from '../../domain';
import type { Audience, NotificationEvent } from '../../domain';
import type { Database } from '../../db/schema';

/** Up to this many events go into one digest; more wait for the next. */
export const MAX_EVENTS_PER_DIGEST = 200;

/** Writes an event once: a retried enqueue (same event id) writes nothing. */
export async function writeToOutbox(
  db: Kysely<Database>,
  eventId: string,
  event: NotificationEvent,
): Promise<void> {
  await db
    .insertInto('notification_outbox')
    .values({
      event_id: eventId,
      tenant_id: event.tenantId,
      audience: event.audience,
      // jsonb refuses a lone surrogate, which a reason from a raw workflow message may hold.
      event: wellFormedJson(event),
    })
    .onConflict((oc) => oc.column('event_id').doNothing())
    .execute();
}

export interface ClaimInput {
  tenantId: string;
  /** Chosen by the notifier (deterministically): a retried claim returns the same events. */
  digestId: string;
}

export interface ClaimedDigest {
  digestId: string;
  events: number;
  audiences: Audience[];
}

/** Takes the tenant's oldest waiting events into a digest, or returns the digest already taken. */
export async function claimDigest(db: Kysely<Database>, input: ClaimInput): Promise<ClaimedDigest> {
  return db.transaction().execute(async (trx) => {
    let rows = await trx
      .selectFrom('notification_outbox')
      .select('audience')
      .where('digest_id', '=', input.digestId)
      .execute();
    if (rows.length === 0) {
      rows = await trx
        .updateTable('notification_outbox')
        .set({ digest_id: input.digestId })
        .where(
          'id',
          'in',
          trx
            .selectFrom('notification_outbox')
            .select('id')
            .where('tenant_id', '=', input.tenantId)
            .where('digest_id', 'is', null)
            .orderBy('id')
            .limit(MAX_EVENTS_PER_DIGEST)
            .forUpdate()
            .skipLocked(),
        )
        .returning('audience')
        .execute();
    }
    return {
      digestId: input.digestId,
      events: rows.length,
      audiences: [...new Set(rows.map((r) => r.audience))].sort(),
    };
  });
}

/** A digest's events for one audience, oldest first. */
export async function digestEvents(
  db: Kysely<Database>,
  digestId: string,
  audience: Audience,
): Promise<NotificationEvent[]> {
  const rows = await db
    .selectFrom('notification_outbox')
    .select('event')
    .where('digest_id', '=', digestId)
    .where('audience', '=', audience)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.event as unknown as NotificationEvent);
}

/** Marks a digest's events delivered (or given up on: the failure is in notification_deliveries). */
export async function completeDigest(db: Kysely<Database>, digestId: string): Promise<void> {
  await db
    .updateTable('notification_outbox')
    .set({ delivered_at: new Date() })
    .where('digest_id', '=', digestId)
    .where('delivered_at', 'is', null)
    .execute();
}
