import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import nodeVault from 'node-vault';
import { inject } from 'vitest';
import { loadConfig } from '../../config';
import type { Config } from '../../config';
import type { ActivityDeps } from '../../activities';
import { buildEngineClients } from '../../engine';
import type { EngineClients } from '../../engine';
import { activityDepsFor } from '../../workers/activity-deps';
import { createRotorWorker } from '../../workers/worker';
import '../setup/stack-info';

function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed in this process (by an earlier call, or a test capturing logs).
  }
}

/** Config pointing at the run's real servers, with a task queue of its own per caller. */
export function testConfig(env: Record<string, string> = {}): Config {
  const stack = inject('stack');
  return loadConfig({
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    DATABASE_URL: stack.databaseUrl,
    VAULT_ADDR: stack.vaultAddr,
    VAULT_TOKEN: stack.vaultToken,
    VAULT_KV_MOUNT: stack.kvMount,
    LOG_LEVEL: 'warn',
    ROTOR_MIN_ROTATION_INTERVAL_SECONDS: '1',
    ROTOR_API_KEY_PEPPER: `test-pepper-${randomUUID()}`,
    ...env,
  });
}

export interface TestRotor {
  config: Config;
  /** The engine's clients, with the target drivers the worker builds over them. */
  clients: EngineClients & ActivityDeps;
  client: Client;
  /** A node-vault client separate from the one activities use, for assertions. */
  vault: ReturnType<typeof nodeVault>;
  /** Starts a worker; `deps` replaces the real clients (e.g. a Vault wrapper that injects faults). */
  startWorker(options?: {
    identity?: string;
    deps?: Partial<ActivityDeps>;
    taskQueue?: string;
  }): Promise<Worker>;
  /** Shuts every worker down (as a crash or deploy would leave the secret without one). */
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

/** Real clients plus workers that run until close(), for one test file. */
export async function createTestRotor(config: Config = testConfig()): Promise<TestRotor> {
  quietRuntime();
  const clients = activityDepsFor(buildEngineClients(config));
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const running: { worker: Worker; run: Promise<void>; close: () => Promise<void> }[] = [];
  const stopWorkers = async (): Promise<void> => {
    const stopping = running.splice(0);
    for (const r of stopping) r.worker.shutdown();
    await Promise.all(stopping.map((r) => r.run));
    await Promise.all(stopping.map((r) => r.close()));
  };
  return {
    config,
    clients,
    client,
    vault: nodeVault({ apiVersion: 'v1', endpoint: config.vault.addr, token: config.vault.token }),
    async startWorker(options = {}) {
      const { worker, connection: native } = await createRotorWorker({
        config: options.taskQueue
          ? { ...config, temporal: { ...config.temporal, taskQueue: options.taskQueue } }
          : config,
        deps: { ...clients, ...options.deps },
        workflowBundle: { codePath: inject('stack').workflowBundlePath },
        identity: options.identity,
      });
      running.push({ worker, run: worker.run(), close: () => native.close() });
      return worker;
    },
    stopWorkers,
    async close() {
      await stopWorkers();
      await connection.close();
      await clients.db.destroy();
      await clients.close();
    },
  };
}

/** A name no other test uses, valid under the naming rules. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
