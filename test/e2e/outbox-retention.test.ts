import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneDeliveredOutbox } from '../../activities/notify/outbox-retention';
import { ensureOutboxRetentionSchedule } from '../../control';
import { migrateOrThrow } from '../../db';
import { createFreshDatabase } from '../helpers/fresh-db';
import type { FreshDatabase } from '../helpers/fresh-db';
import { pollUntil } from '../helpers/poll';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const DAY = 86_400_000;

describe('notification outbox retention', () => {
  let fresh: FreshDatabase;
  let rotor: TestRotor;
  beforeAll(async () => {
    // Pruning deletes across tenants: on a database of its own, never other files' rows.
    fresh = await createFreshDatabase('rotor_outbox_retention');
    await migrateOrThrow(fresh.db);
    rotor = await createTestRotor(testConfig({ DATABASE_URL: fresh.url }));
    await rotor.startWorker();
  });
  afterAll(async () => {
    await rotor?.close();
    await fresh?.drop();
  });

  /** Outbox rows of one tenant, each as old as asked, delivered or not. */
  async function seed(
    tenant: string,
    rows: { key: string; createdDaysAgo: number; digest?: string; deliveredDaysAgo?: number }[],
  ): Promise<void> {
    const now = Date.now();
    await fresh.db
      .insertInto('notification_outbox')
      .values(
        rows.map((r) => ({
          event_id: `${tenant}:${r.key}`,
          tenant_id: tenant,
          audience: 'tenant' as const,
          event: JSON.stringify({ kind: 'rotation.completed', tenantId: tenant }),
          digest_id: r.digest ?? null,
          created_at: new Date(now - r.createdDaysAgo * DAY),
          delivered_at:
            r.deliveredDaysAgo === undefined ? null : new Date(now - r.deliveredDaysAgo * DAY),
        })),
      )
      .execute();
  }

  const remaining = async (tenant: string): Promise<string[]> =>
    (
      await fresh.db
        .selectFrom('notification_outbox')
        .select('event_id')
        .where('tenant_id', '=', tenant)
        .orderBy('event_id')
        .execute()
    ).map((r) => r.event_id.slice(tenant.length + 1));

  it('deletes delivered rows past the period in batches, and never a row still waiting or claimed, however old', async () => {
    const tenant = uniqueName('pruned');
    await seed(tenant, [
      ...['old-1', 'old-2', 'old-3', 'old-4', 'old-5'].map((key, i) => ({
        key,
        createdDaysAgo: 30,
        digest: 'd-old',
        deliveredDaysAgo: 8 + i,
      })),
      { key: 'recent-1', createdDaysAgo: 1, digest: 'd-new', deliveredDaysAgo: 0.5 },
      { key: 'recent-2', createdDaysAgo: 6, digest: 'd-new', deliveredDaysAgo: 6 },
      { key: 'waiting', createdDaysAgo: 60 },
      { key: 'claimed', createdDaysAgo: 60, digest: 'd-stuck' },
    ]);

    const first = await pruneDeliveredOutbox(fresh.db, {
      olderThanSeconds: 7 * 86_400,
      batchSize: 2,
    });
    expect(first).toEqual({ rows: 5, batches: 3 });
    expect(await remaining(tenant)).toEqual(['claimed', 'recent-1', 'recent-2', 'waiting']);

    const again = await pruneDeliveredOutbox(fresh.db, {
      olderThanSeconds: 7 * 86_400,
      batchSize: 2,
    });
    expect(again).toEqual({ rows: 0, batches: 1 });
    expect(await remaining(tenant)).toEqual(['claimed', 'recent-1', 'recent-2', 'waiting']);
  });

  it('runs on a Temporal Schedule set from config, and a period of 0 removes the schedule', async () => {
    const tenant = uniqueName('scheduled');
    await seed(tenant, [
      { key: 'delivered-long-ago', createdDaysAgo: 10, digest: 'd-1', deliveredDaysAgo: 9 },
      { key: 'delivered-today', createdDaysAgo: 0, digest: 'd-2', deliveredDaysAgo: 0.1 },
      { key: 'waiting', createdDaysAgo: 10 },
    ]);
    const scheduleId = uniqueName('outbox-retention');
    const options = { scheduleId, taskQueue: rotor.config.temporal.taskQueue, everySeconds: 3600 };
    expect(
      await ensureOutboxRetentionSchedule(rotor.client, { ...options, olderThanSeconds: 86_400 }),
    ).toBe('created');
    try {
      await rotor.client.schedule.getHandle(scheduleId).trigger();
      const left = await pollUntil(
        'the scheduled run to delete the row delivered long ago',
        () => remaining(tenant),
        (rows) => !rows.includes('delivered-long-ago'),
      );
      expect(left).toEqual(['delivered-today', 'waiting']);
    } finally {
      expect(
        await ensureOutboxRetentionSchedule(rotor.client, { ...options, olderThanSeconds: 0 }),
      ).toBe('removed');
    }
  });

  it('runs once a day unless told otherwise, so an idle engine prunes with one run a day, not 24', async () => {
    const scheduleId = uniqueName('outbox-retention-daily');
    const options = { scheduleId, taskQueue: rotor.config.temporal.taskQueue };
    expect(
      await ensureOutboxRetentionSchedule(rotor.client, { ...options, olderThanSeconds: 86_400 }),
    ).toBe('created');
    try {
      const described = await rotor.client.schedule.getHandle(scheduleId).describe();
      expect(described.spec.intervals?.map((i) => i.every)).toEqual([86_400_000]);
    } finally {
      await ensureOutboxRetentionSchedule(rotor.client, { ...options, olderThanSeconds: 0 });
    }
  });
});
