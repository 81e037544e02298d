import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueEvent } from '../../activities/notify/enqueue';
import { writeToOutbox } from '../../activities/notify/outbox';
import { createNotifierWakeups } from '../../activities/notify/wakeups';
import type { NotifierWakeups } from '../../activities/notify/wakeups';
import { freePort } from '../../devstack';
import type { NotificationEvent } from '../../domain';
import { SlackStub } from '../helpers/slack-stub';
import { SmtpSink } from '../helpers/smtp-sink';
import { completedEvent, notifiedTenant } from '../helpers/notified-tenant';
import { createTestRotor, testConfig } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('notifications through the outbox, at load', () => {
  let rotor: TestRotor;
  let wakeups: NotifierWakeups;
  let smtp: SmtpSink;
  const slack = new SlackStub('xoxb-outbox-test');
  beforeAll(async () => {
    smtp = new SmtpSink(await freePort());
    await smtp.start();
    await slack.start();
    rotor = await createTestRotor(
      testConfig({
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        SLACK_TOKEN: slack.token,
        SLACK_API_URL: slack.apiUrl,
        ROTOR_NOTIFY_DIGEST_SECONDS: '1',
      }),
    );
    // The enqueues below run outside a worker: they owe their wake-ups to a retrier of their own.
    wakeups = createNotifierWakeups({
      client: rotor.client,
      taskQueue: rotor.config.temporal.taskQueue,
      digestSeconds: rotor.config.notifications.digestSeconds,
    });
  });
  afterAll(async () => {
    wakeups?.close();
    await rotor?.close();
    await smtp?.stop();
    await slack.stop();
  });

  const tenant = (prefix: string): Promise<string> => notifiedTenant(rotor.clients.db, prefix);

  const event = (tenantId: string, n: number): NotificationEvent =>
    completedEvent(tenantId, 'ev', n);

  /**
   * What the lifecycle's enqueue does: the activity, tried up to 3 times (its retry policy), and
   * then given up on, never failing the caller. A wake-up that times out under this load is owed
   * and retried in the background; the enqueue itself only fails if the outbox write does.
   */
  async function enqueue(e: NotificationEvent, eventId = randomUUID()): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      try {
        await (
          await enqueueEvent({ db: rotor.clients.db }, wakeups, eventId, e)
        ).woken;
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** How many times each of `names` appears across every mail to `address`. */
  function mailCounts(address: string, names: string[]): Map<string, number> {
    const text = smtp
      .to(address)
      .map((m) => m.text ?? '')
      .join('\n');
    return new Map(names.map((n) => [n, text.split(n).length - 1]));
  }

  it('delivers every one of 240 events across four tenants exactly once per channel, with the worker down, restarted and some wake-ups lost', async () => {
    const tenants = await Promise.all([1, 2, 3, 4].map((i) => tenant(`outbox${i}`)));
    const events = tenants.flatMap((t, ti) =>
      Array.from({ length: 60 }, (_, i) => event(t, ti * 1000 + i)),
    );
    const first = events.filter((_, i) => i % 2 === 0);
    const second = events.filter((_, i) => i % 2 === 1);

    // No worker yet: events pile up in the outbox and the wake-ups wait on the server. Every
    // tenth is written with its wake-up lost. Each enqueue is retried once (same event id).
    await Promise.all(
      first.map(async (e, i) => {
        const id = randomUUID();
        if (i % 10 === 0) await writeToOutbox(rotor.clients.db, id, e);
        else await enqueue(e, id);
        await enqueue(e, id);
      }),
    );
    await rotor.startWorker();
    // The second half arrives while the worker runs, is stopped, and comes back.
    const later = Promise.all(second.map((e) => enqueue(e)));
    await new Promise((r) => setTimeout(r, 1500));
    await rotor.stopWorkers();
    await later;
    await new Promise((r) => setTimeout(r, 1000));
    await rotor.startWorker();

    for (const t of tenants) {
      const names = events.filter((e) => e.tenantId === t).map((e) => e.secretName);
      await expect
        .poll(
          () => [...mailCounts(`owner@${t}.example`, names).values()].filter((n) => n > 0).length,
          {
            timeout: 90_000,
            interval: 500,
          },
        )
        .toBe(names.length);
    }
    // Let anything duplicated arrive before counting.
    await new Promise((r) => setTimeout(r, 3000));
    for (const t of tenants) {
      const names = events.filter((e) => e.tenantId === t).map((e) => e.secretName);
      expect([...mailCounts(`owner@${t}.example`, names).values()]).toEqual(names.map(() => 1));
    }

    const outbox = await rotor.clients.db
      .selectFrom('notification_outbox')
      .select([
        sql<string>`count(*)`.as('rows'),
        sql<string>`count(*) filter (where delivered_at is null)`.as('waiting'),
      ])
      .where('tenant_id', 'in', tenants)
      .executeTakeFirstOrThrow();
    expect({ rows: Number(outbox.rows), waiting: Number(outbox.waiting) }).toEqual({
      rows: 240,
      waiting: 0,
    });
    // One delivery row per digest and channel, all sent, together covering each event once.
    const deliveries = await rotor.clients.db
      .selectFrom('notification_deliveries')
      .select(['channel', 'status', 'event_count', 'idempotency_key'])
      .where('tenant_id', 'in', tenants)
      .execute();
    expect(deliveries.every((d) => d.status === 'sent')).toBe(true);
    for (const channel of ['email', 'slack'] as const) {
      const rows = deliveries.filter((d) => d.channel === channel);
      expect(rows.reduce((n, d) => n + d.event_count, 0)).toBe(240);
    }
    const slackDigests = new Set(
      slack.posts.filter((p) => tenants.some((t) => p.channel === `#${t}`)).map((p) => p.text),
    );
    expect(slackDigests.size).toBeGreaterThan(0);
    expect(slack.posts.filter((p) => tenants.some((t) => p.channel === `#${t}`))).toHaveLength(
      deliveries.filter((d) => d.channel === 'slack').length,
    );
  });

  it('delivers an event whose wake-up never arrived (its writer died) once a worker starts again', async () => {
    const t = await tenant('outbox-sweep');
    await rotor.startWorker();
    // The tenant's notifier is running and idle: it has delivered one event and waits, timerless.
    await enqueue(event(t, 6));
    await expect
      .poll(
        () =>
          mailCounts(`owner@${t}.example`, [event(t, 6).secretName]).get(event(t, 6).secretName),
        {
          timeout: 60_000,
          interval: 500,
        },
      )
      .toBe(1);
    // A writer dies between the outbox row and the wake-up: the row is there, nobody says so.
    await rotor.stopWorkers();
    const e = event(t, 7);
    await writeToOutbox(rotor.clients.db, randomUUID(), e);
    await rotor.startWorker();
    await expect
      .poll(() => mailCounts(`owner@${t}.example`, [e.secretName]).get(e.secretName), {
        timeout: 60_000,
        interval: 500,
      })
      .toBe(1);
  });
});
