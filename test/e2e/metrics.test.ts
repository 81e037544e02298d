import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultKv } from '../../vault';
import { buildApp } from '../../api/app';
import { rejectRotation } from '../../control';
import { SecretType } from '../../domain';
import { rotateNowSignal } from '../../workflows';
import { TEMPORAL_SDK_METRICS } from '../../workers/metrics';
import { startWorkerTelemetry } from '../../workers/telemetry';
import type { WorkerTelemetry } from '../../workers/telemetry';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { pollUntil } from '../helpers/poll';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

/** The value of one sample, e.g. sample(body, 'rotations_total', { type: 'api_key' }). */
function sample(body: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of body.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = new Map(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => got.get(k) === v)) return Number(m[3]);
  }
  return null;
}

describe('Prometheus metrics after real rotations', () => {
  let telemetry: WorkerTelemetry;
  let rotor: TestRotor;
  let app: FastifyInstance;
  const tenantId = uniqueName('metrics');
  const deniedQueue = `denied-${randomUUID()}`;
  let pendingSeen = 0;

  beforeAll(async () => {
    const config = testConfig({ ROTOR_WORKER_METRICS_PORT: '0' });
    // The Temporal runtime is process-wide and installed once: Rotor's telemetry goes first.
    telemetry = await startWorkerTelemetry(config, { logLevel: 'silent' });
    rotor = await createTestRotor(config);
    const vault = (token: string) =>
      new VaultKv(
        nodeVault({ apiVersion: 'v1', endpoint: config.vault.addr, token }),
        config.vault.kvMount,
        telemetry.metrics.observeVault,
      );
    await rotor.startWorker({ deps: { vault: vault(config.vault.token) } });
    // Vault really refuses this token (403): rotations on this queue fail.
    await rotor.startWorker({ taskQueue: deniedQueue, deps: { vault: vault('not-a-real-token') } });
    app = buildApp({
      checks: {},
      logLevel: 'silent',
      services: { db: rotor.clients.db, temporal: rotor.client, config: rotor.config },
    });

    const queue = config.temporal.taskQueue;
    const key = await startSecret(rotor.client, queue, { tenantId, name: 'web-key' });
    const db = await startSecret(rotor.client, queue, {
      tenantId,
      name: 'orders-db',
      type: SecretType.DatabasePassword,
    });
    const denied = await startSecret(rotor.client, deniedQueue, { tenantId, name: 'denied' });

    await waitForStatus(rotor.client, key.workflowId, (s) => s.state === 'ACTIVE');
    await key.signal(rotateNowSignal, { requestedBy: 'test', reason: 'metrics' });
    await waitForStatus(rotor.client, db.workflowId, (s) => s.state === 'ACTIVE');
    await db.signal(rotateNowSignal, { requestedBy: 'alice', reason: 'metrics' });
    const pending = await waitForStatus(
      rotor.client,
      db.workflowId,
      (s) => s.state === 'AWAITING_APPROVAL',
    );
    // The gauge is read from the rows, which the workflow writes just after its status flips.
    pendingSeen = await pollUntil(
      'approvals_pending >= 1',
      async () =>
        sample((await app.inject({ method: 'GET', url: '/metrics' })).body, 'approvals_pending') ??
        0,
      (n) => n >= 1,
      { timeout: 15_000 },
    );
    await rejectRotation({ client: rotor.client, db: rotor.clients.db }, db.workflowId, {
      approver: 'bob',
      roles: ['security'],
      rotationId: pending.pendingApproval?.rotationId ?? '',
      reason: 'freeze',
    });

    // ACTIVE again after the grace period, so the previous version has been revoked (destroyed).
    await waitForStatus(
      rotor.client,
      key.workflowId,
      (s) => s.rotationsCompleted === 2 && s.state === 'ACTIVE',
    );
    await waitForStatus(rotor.client, db.workflowId, (s) => s.state === 'ACTIVE');
    await waitForStatus(rotor.client, denied.workflowId, (s) => s.state === 'NEEDS_ATTENTION');
    // Outcomes are counted from rotation rows, written by the activity after the status flips.
    await pollUntil(
      'the five rotations finished',
      () =>
        rotor.clients.db
          .selectFrom('rotations')
          .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
          .select('rotations.status')
          .where('secrets.tenant_id', '=', tenantId)
          .where('rotations.status', 'in', ['COMPLETED', 'FAILED', 'REJECTED'])
          .execute()
          .then((rows) => rows.map((r) => r.status).sort()),
      (statuses) =>
        JSON.stringify(statuses) ===
        JSON.stringify(['COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED', 'REJECTED']),
      { timeout: 30_000 },
    );
  });
  afterAll(async () => {
    await app?.close();
    await rotor?.close();
    await telemetry?.close();
  });

  it('counts rotations on the API by type and outcome, with a duration histogram to match', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    const body = res.body;
    // Other test files share the engine database, so totals are at least this run's.
    const expected = [
      ['api_key', 'completed', 2],
      ['database_password', 'completed', 1],
      ['database_password', 'rejected', 1],
      ['api_key', 'failed', 1],
    ] as const;
    for (const [type, outcome, atLeast] of expected) {
      const labels = { type, outcome };
      const total = sample(body, 'rotations_total', labels);
      expect(total, `rotations_total ${type} ${outcome}`).toBeGreaterThanOrEqual(atLeast);
      const count = sample(body, 'rotation_duration_seconds_count', labels);
      const inf = sample(body, 'rotation_duration_seconds_bucket', { ...labels, le: '+Inf' });
      const sum = sample(body, 'rotation_duration_seconds_sum', labels);
      expect(count, `rotation_duration_seconds_count ${type} ${outcome}`).toBeGreaterThanOrEqual(
        atLeast,
      );
      expect(inf).toBe(count);
      expect(sum).toBeGreaterThan(0);
      // Buckets are cumulative: each bound holds at least the one below it.
      const bounds = [...body.matchAll(/^rotation_duration_seconds_bucket\{(.*)\} (\S+)$/gm)]
        .filter((m) => m[1]?.includes(`type="${type}"`) && m[1].includes(`outcome="${outcome}"`))
        .map((m) => Number(m[2]));
      expect(bounds.length).toBeGreaterThan(2);
      expect([...bounds].sort((a, b) => a - b)).toEqual(bounds);
    }
    expect(body).toMatch(/^# TYPE rotation_duration_seconds histogram$/m);
    expect(pendingSeen).toBeGreaterThanOrEqual(1);
    expect(sample(body, 'approvals_pending')).not.toBeNull();
    expect(sample(body, 'secrets_overdue')).not.toBeNull();
    expect(sample(body, 'secrets_by_state', { state: 'ACTIVE' })).toBeGreaterThanOrEqual(2);
    expect(sample(body, 'secrets_by_state', { state: 'NEEDS_ATTENTION' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(body).toMatch(/^# TYPE notifications_failed_total counter$/m);
  });

  it('times every Vault request on the worker’s endpoint, by operation and outcome', async () => {
    const res = await fetch(telemetry.metricsUrl);
    expect(res.status).toBe(200);
    const body = await res.text();
    const count = (operation: string, outcome: string) =>
      sample(body, 'vault_request_duration_seconds_count', { operation, outcome });
    // This process's workers alone: 3 versions (web-key twice, orders-db once), each written
    // twice: staged aside, then promoted onto the consumer path (which empties staging).
    expect(count('write', 'success')).toBe(6);
    expect(count('metadata', 'not_found')).toBeGreaterThanOrEqual(2);
    expect(count('read', 'success')).toBeGreaterThanOrEqual(3);
    expect(count('set_labels', 'success')).toBeGreaterThanOrEqual(3);
    expect(count('delete_all', 'success')).toBeGreaterThanOrEqual(3);
    expect(count('destroy_versions', 'success')).toBeGreaterThanOrEqual(1);
    // The refused token: stageVersion's first request (a read of its own staged value), once.
    expect(count('read', 'permission_denied')).toBe(1);
    expect(
      sample(body, 'vault_request_duration_seconds_bucket', {
        operation: 'write',
        outcome: 'success',
        le: '+Inf',
      }),
    ).toBe(6);
    expect(body).toMatch(/^rotor_worker_process_cpu_seconds_total /m);
  });

  it('serves the Temporal SDK’s own worker metrics on the same endpoint', async () => {
    const body = await (await fetch(telemetry.metricsUrl)).text();
    for (const name of TEMPORAL_SDK_METRICS) {
      expect(body, name).toMatch(new RegExp(`^${name}(_bucket)?\\{[^}]*\\} `, 'm'));
    }
    expect(
      sample(body, 'temporal_activity_execution_failed', { activity_type: 'stageVersion' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(body, 'temporal_worker_task_slots_available', { task_queue: deniedQueue }),
    ).not.toBeNull();
  });

  it('answers anything but GET /metrics with 404', async () => {
    const url = telemetry.metricsUrl.replace(/\/metrics$/, '/other');
    expect((await fetch(url)).status).toBe(404);
  });
});
