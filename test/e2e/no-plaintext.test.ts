import { randomUUID } from 'node:crypto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogEntry } from '@temporalio/worker';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretType } from '../../domain';
import { notifierWorkflowId, rotateNowSignal } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { RecordingVault, leakForms, searchableText } from '../helpers/recording-vault';
import { engineTablesAsText } from '../helpers/table-text';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

// Every log line the SDK, the worker and the activities emit in this process, at every level.
const logs: LogEntry[] = [];
Runtime.install({ logger: new DefaultLogger('TRACE', (entry) => logs.push(entry)) });

describe('secret values', () => {
  let rotor: TestRotor;
  let recording: RecordingVault;
  const tenantId = uniqueName('plain');
  const workflowIds: string[] = [];
  beforeAll(async () => {
    rotor = await createTestRotor();
    recording = new RecordingVault(rotor.config);
    await rotor.startWorker({ deps: { vault: recording } });

    // Every generated type, several rotations each, through grace and revoke.
    const types = [
      SecretType.ApiKey,
      SecretType.ServiceToken,
      SecretType.EncryptionKey,
      SecretType.JwtSecret,
      SecretType.WebhookSecret,
      SecretType.DatabasePassword,
    ];
    const handles = await Promise.all(
      types.map((type) =>
        startSecret(rotor.client, rotor.config.temporal.taskQueue, {
          tenantId,
          name: type.replace(/_/g, '-'),
          type,
          policy: { requiresApproval: false, graceSeconds: 1 },
        }),
      ),
    );
    for (const handle of handles) {
      workflowIds.push(handle.workflowId);
      await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
      await handle.signal(rotateNowSignal, {
        requestedBy: 'test',
        reason: `rotation ${randomUUID()}`,
      });
    }
    for (const id of workflowIds) {
      await waitForStatus(
        rotor.client,
        id,
        (s) => s.rotationsCompleted === 2 && s.state === 'ACTIVE',
      );
      await rotor.client.workflow
        .getHandle(id)
        .signal(rotateNowSignal, { requestedBy: 'test', reason: 'again' });
    }
    for (const id of workflowIds) {
      await waitForStatus(
        rotor.client,
        id,
        (s) => s.rotationsCompleted === 3 && s.state === 'ACTIVE',
      );
    }
  });
  afterAll(async () => rotor?.close());

  const assertNoValue = (haystack: string, where: string): void => {
    for (const value of recording.written) {
      for (const form of leakForms(value))
        expect(haystack.includes(form), `${where} contains a secret value`).toBe(false);
    }
  };

  it('were generated: 6 types, 3 versions each, each staged aside once and then promoted once', () => {
    const values = new Set(recording.written);
    expect(values.size).toBe(18);
    for (const value of values) {
      const paths = recording.writes.filter((w) => w.value === value).map((w) => w.path);
      expect(paths).toHaveLength(2);
      expect(paths[0]).toMatch(/^rotor-staging\//);
      expect(paths[1]).toMatch(/^rotor\//);
    }
  });

  it('never appear in any run’s workflow history, raw or base64', async () => {
    let runs = 0;
    for (const id of workflowIds) {
      for await (const run of rotor.client.workflow.list({ query: `WorkflowId = '${id}'` })) {
        const history = await rotor.client.workflow.getHandle(id, run.runId).fetchHistory();
        assertNoValue(searchableText(history), `history of ${id} run ${run.runId}`);
        runs += 1;
      }
    }
    expect(runs).toBeGreaterThanOrEqual(workflowIds.length * 2);
    // The tenant's notifier workflow delivers the events of all of them; the events themselves
    // wait in the notification outbox, and reach it as the lifecycle's enqueue inputs.
    const notifier = await rotor.client.workflow
      .getHandle(notifierWorkflowId(tenantId))
      .fetchHistory();
    assertNoValue(searchableText(notifier), 'the notifier history');
    const outbox = await rotor.clients.db
      .selectFrom('notification_outbox')
      .select('event')
      .where('tenant_id', '=', tenantId)
      .execute();
    const outboxText = JSON.stringify(outbox);
    // Decoding works: the events' own fields are readable, so a value would be too.
    expect(outboxText).toContain('"kind":"rotation.completed"');
    assertNoValue(outboxText, 'the notification outbox');
  });

  it('never appear in search attributes or memo', async () => {
    for (const id of workflowIds) {
      const description = await rotor.client.workflow.getHandle(id).describe();
      assertNoValue(searchableText(description.raw), `description of ${id}`);
    }
  });

  it('never appear in the logs of the worker and its activities', () => {
    expect(logs.length).toBeGreaterThan(0);
    assertNoValue(
      JSON.stringify(logs, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      'the logs',
    );
  });

  it('never appear in any engine database table, audit rows included', async () => {
    const tables = await engineTablesAsText(rotor.clients.db);
    expect(tables.map((t) => t.table)).toEqual(
      expect.arrayContaining(['secrets', 'rotations', 'audit_events']),
    );
    for (const { table, text } of tables) assertNoValue(text, `table ${table}`);
  });

  it('would be found if one were there: a value planted in a table is caught by the same scan', async () => {
    const planted = recording.written[0] ?? '';
    expect(planted).not.toBe('');
    const { rows } = await sql<Record<string, unknown>>`select ${planted}::text as leaked`.execute(
      rotor.clients.db,
    );
    expect(() => assertNoValue(JSON.stringify(rows), 'a planted row')).toThrow();
    const base64 = Buffer.from(JSON.stringify({ value: planted })).toString('base64');
    expect(() =>
      assertNoValue(
        searchableText({ payload: { metadata: {}, data: base64 } }),
        'a planted payload',
      ),
    ).toThrow();
  });
});
