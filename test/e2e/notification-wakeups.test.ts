import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { enqueueEvent } from '../../activities/notify/enqueue';
import { writeToOutbox } from '../../activities/notify/outbox';
import { createNotifierWakeups } from '../../activities/notify/wakeups';
import { migrateOrThrow } from '../../db';
import { freePort } from '../../devstack';
import type { NotificationEvent } from '../../domain';
import { notifierWorkflowId } from '../../workflows';
import { createFreshDatabase } from '../helpers/fresh-db';
import type { FreshDatabase } from '../helpers/fresh-db';
import { SlackStub } from '../helpers/slack-stub';
import { SmtpSink } from '../helpers/smtp-sink';
import { completedEvent, notifiedTenant } from '../helpers/notified-tenant';
import { createTestRotor, testConfig } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';
import { startToggleProxy } from '../helpers/toggle-proxy';
import type { ToggleProxy } from '../helpers/toggle-proxy';

/** Longer than a sweep every second would leave quiet, so a sweep cannot hide in the window. */
const QUIET_WINDOW_MS = 8_000;

// Whoever writes an outbox row owes the notifier its wake-up; no notifier sweeps on a timer.
// A database of its own: every worker sweeps the whole outbox at startup, and this file counts
// the statements its database receives.
describe('notifier wake-ups, owed by the writer', () => {
  let fresh: FreshDatabase;
  let rotor: TestRotor;
  let smtp: SmtpSink;
  let proxy: ToggleProxy;
  let viaProxy: Connection;
  const slack = new SlackStub('xoxb-wakeups-test');
  const env = () => ({
    DATABASE_URL: fresh.url,
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    SLACK_TOKEN: slack.token,
    SLACK_API_URL: slack.apiUrl,
    ROTOR_NOTIFY_DIGEST_SECONDS: '1',
  });
  beforeAll(async () => {
    fresh = await createFreshDatabase('rotor_wakeups');
    await migrateOrThrow(fresh.db);
    await sql`create extension if not exists pg_stat_statements`.execute(fresh.db);
    smtp = new SmtpSink(await freePort());
    await smtp.start();
    await slack.start();
    rotor = await createTestRotor(testConfig(env()));
    await rotor.startWorker();
    const [host = '127.0.0.1', port = '7233'] = inject('stack').temporalAddress.split(':');
    proxy = await startToggleProxy({ host, port: Number(port) });
    viaProxy = await Connection.connect({ address: `127.0.0.1:${proxy.port}` });
  });
  afterAll(async () => {
    await viaProxy?.close();
    await proxy?.close();
    await rotor?.close();
    await smtp?.stop();
    await slack.stop();
    await fresh?.drop();
  });

  const tenant = (prefix: string): Promise<string> => notifiedTenant(rotor.clients.db, prefix);

  const event = (tenantId: string, n: number): NotificationEvent =>
    completedEvent(tenantId, 'wk', n);

  /** How many mails to the tenant's owner, and Slack posts to its channel, name the event. */
  const deliveries = (e: NotificationEvent): { mail: number; slack: number } => ({
    mail:
      smtp
        .to(`owner@${e.tenantId}.example`)
        .map((m) => m.text ?? '')
        .join('\n')
        .split(e.secretName).length - 1,
    // A digest of several events names each in its blocks, not in its one-line text.
    slack: slack.posts.filter(
      (p) => p.channel === `#${e.tenantId}` && JSON.stringify(p).includes(e.secretName),
    ).length,
  });

  const notifierExists = async (tenantId: string): Promise<boolean> =>
    rotor.client.workflow
      .getHandle(notifierWorkflowId(tenantId))
      .describe()
      .then(
        () => true,
        (err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        },
      );

  const waiting = async (tenantId: string): Promise<number> =>
    Number(
      (
        await rotor.clients.db
          .selectFrom('notification_outbox')
          .select(sql<string>`count(*)`.as('n'))
          .where('tenant_id', '=', tenantId)
          .where('delivered_at', 'is', null)
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** Delivered once by mail and once on Slack, and nothing of the tenant's left waiting. */
  async function expectDeliveredOnce(e: NotificationEvent, timeout = 60_000): Promise<void> {
    delivered.push(e);
    await expect
      .poll(async () => ({ ...deliveries(e), waiting: await waiting(e.tenantId) }), {
        timeout,
        interval: 500,
      })
      .toEqual({ mail: 1, slack: 1, waiting: 0 });
  }

  /** Statements this file's database has run, leaving out reads of the statistics themselves. */
  const statements = async (): Promise<number> =>
    Number(
      (
        await sql<{ calls: string | null }>`
          select sum(s.calls) as calls from pg_stat_statements s
          where s.dbid = (select oid from pg_database where datname = current_database())
            and s.query not ilike '%pg_stat_statements%'`.execute(fresh.db)
      ).rows[0]?.calls ?? 0,
    );

  const historyOf = async (tenantId: string) =>
    (await rotor.client.workflow.getHandle(notifierWorkflowId(tenantId)).fetchHistory()).events ??
    [];

  const EventType = temporal.api.enums.v1.EventType;
  /** Every event this file delivered, recounted once all is quiet. */
  const delivered: NotificationEvent[] = [];
  const tenantA = { id: '' };
  const tenantB = { id: '' };

  it('delivers an event whose wake-up failed exactly once, when the owed wake-up gets through', async () => {
    const t = await tenant('wake-failed');
    tenantA.id = t;
    // The enqueue's Temporal is unreachable: every connection cut, new ones refused.
    const wakeups = createNotifierWakeups({
      client: new Client({ connection: viaProxy }),
      taskQueue: rotor.config.temporal.taskQueue,
      digestSeconds: rotor.config.notifications.digestSeconds,
    });
    try {
      await proxy.down();
      const e = event(t, 1);
      // The enqueue succeeds: the row is written, the wake-up is owed rather than lost.
      await (
        await enqueueEvent({ db: rotor.clients.db }, wakeups, randomUUID(), e)
      ).woken;
      expect([...wakeups.owed()]).toEqual([t]);
      expect(await notifierExists(t)).toBe(false);
      expect(await waiting(t)).toBe(1);
      // A second event while Temporal is away is owed under the same tenant, once.
      const e2 = event(t, 2);
      await (
        await enqueueEvent({ db: rotor.clients.db }, wakeups, randomUUID(), e2)
      ).woken;
      expect([...wakeups.owed()]).toEqual([t]);

      await proxy.up();
      // The client's gRPC channel reconnects on its own backoff, and the retrier on its own.
      await expectDeliveredOnce(e, 150_000);
      await expectDeliveredOnce(e2);
      expect(wakeups.owed().size).toBe(0);
    } finally {
      wakeups.close();
    }
  }, 240_000);

  it('delivers an event no one woke the notifier for (its writer died) when a worker starts', async () => {
    const t = await tenant('writer-died');
    tenantB.id = t;
    await rotor.stopWorkers();
    // The row, and no wake-up at all: as if the worker died right after writing it.
    const e = event(t, 3);
    await writeToOutbox(rotor.clients.db, randomUUID(), e);
    // And one for the tenant whose notifier is already running, idle and timerless.
    const eA = event(tenantA.id, 4);
    await writeToOutbox(rotor.clients.db, randomUUID(), eA);
    expect(await notifierExists(t)).toBe(false);

    await rotor.startWorker();
    await expectDeliveredOnce(e);
    await expectDeliveredOnce(eA);
  });

  it('issues no database statement and starts no timer at rest, while a periodic sweep would', async () => {
    expect(tenantA.id && tenantB.id).toBeTruthy();
    // At rest: every notifier has finished its last digest and its last workflow task.
    const workflowTask = [
      EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    ];
    for (const t of [tenantA.id, tenantB.id]) {
      await expect
        .poll(
          async () => {
            const handle = rotor.client.workflow.getHandle(notifierWorkflowId(t));
            const [description, events] = await Promise.all([handle.describe(), historyOf(t)]);
            return {
              pendingActivities: description.raw.pendingActivities?.length ?? 0,
              lastTask: events.findLast((ev) => workflowTask.includes(ev.eventType ?? 0))
                ?.eventType,
            };
          },
          { timeout: 30_000, interval: 500 },
        )
        .toEqual({
          pendingActivities: 0,
          lastTask: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        });
    }
    const historiesBefore = await Promise.all([tenantA.id, tenantB.id].map(historyOf));
    const before = await statements();
    await new Promise((r) => setTimeout(r, QUIET_WINDOW_MS));
    const after = await statements();
    const historiesAfter = await Promise.all([tenantA.id, tenantB.id].map(historyOf));

    expect(after - before).toBe(0);
    // Nothing came twice, now that everything has long settled.
    expect(delivered.map(deliveries)).toEqual(delivered.map(() => ({ mail: 1, slack: 1 })));
    expect(historiesAfter.map((h) => h.length)).toEqual(historiesBefore.map((h) => h.length));
    // After its last digest was marked delivered, a notifier set no timer (no sweep to come).
    for (const events of historiesAfter) {
      const lastComplete = events.findLastIndex(
        (ev) => ev.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
      );
      expect(lastComplete).toBeGreaterThan(0);
      expect(
        events
          .slice(lastComplete)
          .filter((ev) => ev.eventType === EventType.EVENT_TYPE_TIMER_STARTED),
      ).toEqual([]);
    }

    // The same count sees a sweep: a worker configured to sweep every second.
    const sweeping = await createTestRotor(
      testConfig({ ...env(), ROTOR_NOTIFY_OUTBOX_SWEEP_SECONDS: '1' }),
    );
    try {
      await sweeping.startWorker();
      const start = await statements();
      await new Promise((r) => setTimeout(r, QUIET_WINDOW_MS));
      expect((await statements()) - start).toBeGreaterThanOrEqual(2);
    } finally {
      await sweeping.close();
    }
  });
});
