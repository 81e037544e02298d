import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTemporalCli, silentProgress } from '../../devstack';
import { freePort } from '../../devstack/ports';
import { startService } from '../../devstack/service';
import type { Service } from '../../devstack/service';
import { temporalDevServerArgs } from '../../devstack/temporal';
import { SecretType } from '../../domain';
import { rotateNowSignal, statusQuery } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

/**
 * A revocation that keeps failing is retried forever on the lifecycle's own schedule. Each retry
 * adds events to the run's history; the run must continue as new before the server's history
 * limit, or the server terminates it: the lifecycle ends. A Temporal server with small limits
 * shows in a minute what takes months at the default ones.
 */
describe('a lifecycle whose revocation keeps failing, on a server with a small history limit', () => {
  let temporal: Service;
  let rotor: TestRotor;
  const queue = `revoke-forever-${randomUUID()}`;

  beforeAll(async () => {
    const bin = await ensureTemporalCli(silentProgress);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rotor-history-limit-'));
    const port = await freePort();
    const uiPort = await freePort();
    temporal = startService(
      'temporal',
      bin,
      [
        ...temporalDevServerArgs({
          port,
          uiPort,
          dbFile: path.join(dir, 'temporal.db'),
          durability: 'off',
        }),
        '--dynamic-config-value',
        'limit.historyCount.suggestContinueAsNew=100',
        '--dynamic-config-value',
        'limit.historyCount.warn=100',
        '--dynamic-config-value',
        'limit.historyCount.error=130',
      ],
      { logFile: path.join(dir, 'temporal.log') },
    );
    const address = `127.0.0.1:${port}`;
    for (let i = 0; ; i += 1) {
      try {
        const c = await Connection.connect({ address, connectTimeout: 1000 });
        const { customAttributes } = await c.operatorService.listSearchAttributes({
          namespace: 'default',
        });
        await c.close();
        if (Object.keys(customAttributes ?? {}).length > 0) break;
      } catch {
        if (i > 60) throw new Error('temporal did not start');
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    rotor = await createTestRotor(testConfig({ TEMPORAL_ADDRESS: address }));
    const real = rotor.clients.targets;
    await rotor.startWorker({
      taskQueue: queue,
      deps: {
        targets: {
          ...real,
          tenant_api_key: {
            ...real.tenant_api_key,
            revoke: () => {
              throw ApplicationFailure.nonRetryable('injected: revoke', 'TargetRejected');
            },
          },
        },
      },
    });
  }, 180_000);
  afterAll(async () => {
    await rotor?.close();
    await temporal?.stop();
  });

  it('keeps running through failed revocations past the history limit: it continues as new, still in NEEDS_ATTENTION with the previous key live', async () => {
    const handle = await startSecret(rotor.client, queue, {
      tenantId: uniqueName('hist'),
      name: 'key',
      type: SecretType.ApiKey,
      policy: { graceSeconds: 1, maxAttempts: 1, repairEverySeconds: 1 },
      target: { kind: 'tenant_api_key' },
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.currentVersion === 1);
    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'then revoke fails' });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.revokeRetryAt !== null);
    const failingRun = (await rotor.client.workflow.getHandle(handle.workflowId).describe()).runId;
    // Retries at 1, 2, 4, 8, 16, 32 s: about 11 events each, past the limit of 130 events.
    await new Promise((r) => setTimeout(r, 70_000));
    const latest = rotor.client.workflow.getHandle(handle.workflowId);
    const described = await latest.describe();
    expect(described.status.name).toBe('RUNNING');
    expect(described.runId).not.toBe(failingRun);
    expect(await latest.query(statusQuery)).toMatchObject({
      state: 'NEEDS_ATTENTION',
      currentVersion: 2,
      previousVersion: 1,
      previousCredentialLive: true,
      lastErrorType: 'TargetRejected',
    });
    // `npm run record-histories` runs at the default limits, where this path takes months: its
    // histories (test/fixtures/histories/*_owed-revoke-*) are saved from here, when asked.
    if (process.env.ROTOR_DUMP_HISTORIES) {
      const { temporal: proto } = await import('@temporalio/proto');
      const { writeFile } = await import('node:fs/promises');
      for (const runId of [failingRun, described.runId]) {
        const history = await rotor.client.workflow
          .getHandle(handle.workflowId, runId)
          .fetchHistory();
        const json = proto.api.history.v1.History.toObject(
          proto.api.history.v1.History.fromObject(history),
          { longs: String, enums: String, bytes: String },
        );
        const file = `secret_recorded-${randomUUID().slice(0, 8)}_owed-revoke-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
        await writeFile(path.join(process.env.ROTOR_DUMP_HISTORIES, file), JSON.stringify(json));
      }
    }
  }, 200_000);
});
