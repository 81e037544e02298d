import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditTrail } from '../../audit';
import { ensureAuditRetentionSchedule } from '../../control';
import { migrateOrThrow } from '../../db';
import { createFreshDatabase } from '../helpers/fresh-db';
import type { FreshDatabase } from '../helpers/fresh-db';
import { pollUntil } from '../helpers/poll';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('the audit retention policy, applied by a Temporal Schedule', () => {
  let fresh: FreshDatabase;
  let rotor: TestRotor;
  beforeAll(async () => {
    // Archiving moves rows out of audit_events: on a database of its own, never other files'.
    fresh = await createFreshDatabase('rotor_retention');
    await migrateOrThrow(fresh.db);
    rotor = await createTestRotor(testConfig({ DATABASE_URL: fresh.url }));
    await rotor.startWorker();
  });
  afterAll(async () => {
    await rotor?.close();
    await fresh?.drop();
  });

  it('archives rows past the retention period behind a checkpoint, and the chain still verifies', async () => {
    const tenant = uniqueName('kept');
    await rotor.clients.db.insertInto('tenants').values({ id: tenant, name: tenant }).execute();
    for (let i = 0; i < 5; i++) {
      await appendAudit(rotor.clients.db, {
        tenantId: tenant,
        actor: 'test',
        action: 'test.event',
        outcome: 'info',
        idempotencyKey: `${tenant}:${i}`,
      });
    }
    // Every row so far is older than one second once the schedule runs.
    await new Promise((r) => setTimeout(r, 1100));
    const scheduleId = uniqueName('retention');
    const options = { scheduleId, taskQueue: rotor.config.temporal.taskQueue, everySeconds: 3600 };
    expect(
      await ensureAuditRetentionSchedule(rotor.client, { ...options, olderThanSeconds: 1 }),
    ).toBe('created');
    const handle = rotor.client.schedule.getHandle(scheduleId);
    try {
      await handle.trigger();
      const archived = await pollUntil(
        'the retention run to archive the tenant’s rows',
        () =>
          rotor.clients.db
            .selectFrom('audit_events_archive')
            .select(({ fn }) => fn.countAll<string>().as('n'))
            .where('tenant_id', '=', tenant)
            .executeTakeFirstOrThrow(),
        (r) => Number(r.n) === 5,
      );
      expect(Number(archived.n)).toBe(5);
      const live = await rotor.clients.db
        .selectFrom('audit_events')
        .select('action')
        .where('tenant_id', '=', tenant)
        .execute();
      expect(live).toEqual([]);
      const report = await verifyAuditTrail(rotor.clients.db);
      expect(report.firstBreak).toBeNull();
      expect(report.ok).toBe(true);
    } finally {
      expect(
        await ensureAuditRetentionSchedule(rotor.client, { ...options, olderThanSeconds: 0 }),
      ).toBe('removed');
    }
  });
});
