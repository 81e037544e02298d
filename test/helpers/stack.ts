import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import nodeVault from 'node-vault';
import { inject } from 'vitest';
import { loadConfig } from '../../config';
import type { Config } from '../../config';
import { buildEngineClients } from '../../workers/clients';
import type { EngineClients } from '../../workers/clients';
import { createRotorWorker } from '../../workers/worker';
import '../setup/stack-info';

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
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
    ...env,
  });
}

export interface TestRotor {
  config: Config;
  clients: EngineClients;
  client: Client;
  /** A node-vault client separate from the one activities use, for assertions. */
  vault: ReturnType<typeof nodeVault>;
  startWorker(identity?: string): Promise<Worker>;
  close(): Promise<void>;
}

/** Real clients plus workers that run until close(), for one test file. */
export async function createTestRotor(config: Config = testConfig()): Promise<TestRotor> {
  quietRuntime();
  const clients = buildEngineClients(config);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const running: { worker: Worker; run: Promise<void>; close: () => Promise<void> }[] = [];
  return {
    config,
    clients,
    client,
    vault: nodeVault({ apiVersion: 'v1', endpoint: config.vault.addr, token: config.vault.token }),
    async startWorker(identity) {
      const { worker, connection: native } = await createRotorWorker({
        config,
        deps: clients,
        workflowBundle: { codePath: inject('stack').workflowBundlePath },
        identity,
      });
      running.push({ worker, run: worker.run(), close: () => native.close() });
      return worker;
    },
    async close() {
      for (const r of running) r.worker.shutdown();
      await Promise.all(running.map((r) => r.run));
      await Promise.all(running.map((r) => r.close()));
      await connection.close();
      await clients.db.destroy();
    },
  };
}

/** A name no other test uses, valid under the naming rules. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
