import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveRotation } from '../../control';
import { SecretType, secretVaultPath } from '../../domain';
import { rotateNowSignal } from '../../workflows';
import { startWorkerTelemetry } from '../../workers/telemetry';
import type { WorkerTelemetry } from '../../workers/telemetry';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { leakForms } from '../helpers/recording-vault';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

/** The activities that act for one rotation; each gets a rotation id in its input. */
const ROTATION_ACTIVITIES = [
  'beginRotation',
  'stageVersion',
  'verifyVersion',
  'promoteVersion',
  'finishRotation',
  'revokeVersion',
  'requestApproval',
  'recordApprovalDecision',
];

interface Line {
  level: number;
  msg: string;
  workflowId?: string;
  rotationId?: string;
  activityType?: string;
  sdkComponent?: string;
}

describe('worker logs of a full run', () => {
  // Every line the worker's pino logger writes in this process: the SDK's, Core's and the
  // activities', at debug level and up.
  const raw: string[] = [];
  let telemetry: WorkerTelemetry;
  let rotor: TestRotor;
  const tenantId = uniqueName('logs');
  const workflowIds: string[] = [];
  /** Every value this run generated, read back from OpenBao while each was current. */
  const values: string[] = [];

  const readCurrentValue = async (name: string): Promise<void> => {
    const path = `${rotor.config.vault.kvMount}/data/${secretVaultPath(tenantId, name)}`;
    const res = (await rotor.vault.read(path)) as { data: { data: { value: string } } };
    values.push(res.data.data.value);
  };

  beforeAll(async () => {
    const config = testConfig({ ROTOR_WORKER_METRICS_PORT: '0' });
    // The Temporal runtime is process-wide and installed once: Rotor's telemetry goes first.
    telemetry = await startWorkerTelemetry(config, {
      logLevel: 'debug',
      logDestination: { write: (line: string) => void raw.push(line) },
    });
    rotor = await createTestRotor(config);
    await rotor.startWorker();
    const queue = config.temporal.taskQueue;

    const types = [
      SecretType.ApiKey,
      SecretType.ServiceToken,
      SecretType.JwtSecret,
      SecretType.WebhookSecret,
      SecretType.EncryptionKey,
    ];
    for (const type of types) {
      const name = type.replace(/_/g, '-');
      const handle = await startSecret(rotor.client, queue, {
        tenantId,
        name,
        type,
        policy: { requiresApproval: false },
      });
      workflowIds.push(handle.workflowId);
      await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
      await readCurrentValue(name);
      await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'logs' });
    }
    // A sensitive type, rotated with security's approval.
    const db = await startSecret(rotor.client, queue, {
      tenantId,
      name: 'orders-db',
      type: SecretType.DatabasePassword,
    });
    workflowIds.push(db.workflowId);
    await waitForStatus(rotor.client, db.workflowId, (s) => s.state === 'ACTIVE');
    await readCurrentValue('orders-db');
    await db.signal(rotateNowSignal, { requestedBy: 'alice', reason: 'logs' });
    const pending = await waitForStatus(
      rotor.client,
      db.workflowId,
      (s) => s.state === 'AWAITING_APPROVAL',
    );
    await approveRotation({ client: rotor.client, db: rotor.clients.db }, db.workflowId, {
      approver: 'bob',
      roles: ['security'],
      rotationId: pending.pendingApproval?.rotationId ?? '',
    });

    // Each second version is read while current; ACTIVE again means grace ended and v1 was revoked.
    for (const [i, workflowId] of workflowIds.entries()) {
      await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 2);
      await readCurrentValue(i < types.length ? (types[i] ?? '').replace(/_/g, '-') : 'orders-db');
      await waitForStatus(
        rotor.client,
        workflowId,
        (s) => s.rotationsCompleted === 2 && s.state === 'ACTIVE',
      );
    }
    await rotor.close();
    // pino writes asynchronously; the runtime buffers forwarded lines for a moment.
    telemetry.logger.flush();
    await new Promise((r) => setTimeout(r, 500));
  });
  afterAll(async () => telemetry?.close());

  const lines = (): Line[] => raw.map((l) => JSON.parse(l) as Line);

  it('are JSON lines, and the run produced a value per version', () => {
    expect(raw.length).toBeGreaterThan(50);
    expect(() => lines()).not.toThrow();
    expect(values).toHaveLength(12);
    expect(new Set(values).size).toBe(12);
  });

  it('contain none of the generated secret values, in any encoding', () => {
    const text = raw.join('');
    for (const value of values) {
      for (const form of leakForms(value)) {
        expect(text.includes(form), 'a secret value reached the logs').toBe(false);
      }
    }
  });

  it('put the workflow id and the rotation id on every line of a rotation', () => {
    const ours = lines().filter(
      (l) =>
        ROTATION_ACTIVITIES.includes(l.activityType ?? '') &&
        workflowIds.includes(l.workflowId ?? ''),
    );
    const missing = ours.filter((l) => !/^[0-9a-f-]{36}$/.test(l.rotationId ?? ''));
    expect(missing).toEqual([]);
    // Each secret's two rotations, each logged by the SDK and by Rotor's own activity lines.
    for (const workflowId of workflowIds) {
      const mine = ours.filter((l) => l.workflowId === workflowId);
      const requested = mine.filter((l) => l.msg === 'Rotation requested');
      expect(new Set(requested.map((l) => l.rotationId)).size, workflowId).toBe(2);
      const messages = mine.map((l) => l.msg);
      for (const msg of [
        'Activity started',
        'Activity completed',
        'Rotation requested',
        'Staged a new version in Vault',
        'Verified the staged version',
        'Promoted the staged version to current',
        'Rotation finished',
        'Revoked the previous version',
      ]) {
        expect(messages, `${workflowId}: ${msg}`).toContain(msg);
      }
    }
    const approval = ours.filter((l) => l.workflowId === workflowIds.at(-1)).map((l) => l.msg);
    expect(approval).toEqual(
      expect.arrayContaining(['Approval requested', 'Approval decision recorded']),
    );
  });

  it('write the SDK’s activity start line once, with the ids', () => {
    const starts = lines().filter(
      (l) => l.msg === 'Activity started' && workflowIds.includes(l.workflowId ?? ''),
    );
    expect(starts.length).toBeGreaterThan(0);
    expect(starts.every((l) => l.sdkComponent === 'activity')).toBe(true);
  });
});
