import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { REPO_ROOT } from '../../devstack/paths';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { pollUntil } from '../helpers/poll';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

/** A real worker process (workers/main.ts), configured only through its environment. */
function spawnWorker(
  taskQueue: string,
  identity: string,
): { child: ChildProcess; output: () => string } {
  const stack = inject('stack');
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATABASE_URL: stack.databaseUrl,
      VAULT_ADDR: stack.vaultAddr,
      VAULT_TOKEN: stack.vaultToken,
      ROTOR_WORKER_IDENTITY: identity,
      LOG_LEVEL: 'warn',
      // Two workers on one machine need two metrics ports: 0 lets each take a free one.
      ROTOR_WORKER_METRICS_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

describe('two worker processes on one task queue', () => {
  let rotor: TestRotor;
  const workers: ReturnType<typeof spawnWorker>[] = [];
  beforeAll(async () => {
    rotor = await createTestRotor();
    const queue = rotor.config.temporal.taskQueue;
    workers.push(spawnWorker(queue, 'process-a'), spawnWorker(queue, 'process-b'));
    // Both must be polling before work arrives, or the first one up would take it all.
    const output = () => workers.map((w) => w.output()).join('\n');
    await pollUntil(
      'two distinct activity pollers',
      async () => {
        const { pollers } = await rotor.client.workflowService.describeTaskQueue({
          namespace: rotor.config.temporal.namespace,
          taskQueue: { name: queue },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        });
        return new Set((pollers ?? []).map((p) => p.identity)).size;
      },
      (n) => n === 2,
      { timeout: 90_000, interval: 500 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nworker output:\n${output()}`);
    });
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(
      workers.map(
        (w) => new Promise((r) => (w.child.exitCode !== null ? r(null) : w.child.once('exit', r))),
      ),
    );
    await rotor?.close();
  });

  it('share the activities of many secrets between them', async () => {
    const tenantId = uniqueName('scale');
    const handles = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        startSecret(rotor.client, rotor.config.temporal.taskQueue, { tenantId, name: `key-${i}` }),
      ),
    );
    const identities = new Map<string, number>();
    for (const handle of handles) {
      await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
      for (const event of (await handle.fetchHistory()).events ?? []) {
        const identity = event.activityTaskStartedEventAttributes?.identity;
        if (identity) identities.set(identity, (identities.get(identity) ?? 0) + 1);
      }
    }
    expect([...identities.keys()].sort(), workers.map((w) => w.output()).join('\n')).toEqual([
      'process-a',
      'process-b',
    ]);
  });
});
