// `npm run bench [-- --secrets N]`: rotates N secrets end to end on the real local stack and
// prints throughput and latency, against a baseline doing the same Vault writes, database updates
// and audit rows directly (no Temporal) in the same process. Then counts the Vault and database
// calls made while every secret sleeps with nothing due. Figures only; nothing here is asserted.
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Kysely, PostgresDialect } from 'kysely';
import nodeVault from 'node-vault';
import pg from 'pg';
import { createActivities, createTargetRegistry } from '../activities';
import { VaultKv } from '../vault';
import { loadConfig } from '../config';
import type { Database } from '../db';
import { migrateOrThrow } from '../db';
import { SecretType, policyFor, secretVaultPath, secretWorkflowId } from '../domain';
import { startStack, stderrProgress } from '../devstack';
import { buildNotifyClients } from '../engine';
import { createRotorWorker } from '../workers/worker';
import { rotateNowSignal, secretLifecycle } from '../workflows';

const N = Number(/--secrets[= ](\d+)/.exec(process.argv.join(' '))?.[1] ?? 1000);
const CONCURRENCY = 50;
const IDLE_SECONDS = 20;

/** A real Vault client that counts the requests it makes. */
class CountingVault extends VaultKv {
  calls = 0;
  constructor(addr: string, token: string, mount: string) {
    const client = nodeVault({ apiVersion: 'v1', endpoint: addr, token });
    const request = client.request.bind(client);
    super({ request: (o) => ((this.calls += 1), request(o)) }, mount);
  }
}

/**
 * Waits until the engine database shows the version current. Polls the database, not the
 * workflow's status query: queries run on the worker being measured and would slow it down.
 */
async function untilCurrent(
  db: Kysely<Database>,
  workflowId: string,
  version: number,
): Promise<void> {
  for (;;) {
    const row = await db
      .selectFrom('secrets')
      .select('current_version')
      .where('workflow_id', '=', workflowId)
      .executeTakeFirst();
    if (row?.current_version === version) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function pool<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await run(items[next++] as T);
    }),
  );
}

function report(label: string, latencies: number[], seconds: number): { perSecond: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  const perSecond = latencies.length / seconds;
  process.stdout.write(
    `${label.padEnd(34)} ${String(latencies.length).padStart(6)} rotations in ${seconds.toFixed(1)} s` +
      `  ${perSecond.toFixed(1).padStart(7)}/s  p50 ${percentile(sorted, 50).toFixed(0)} ms  p99 ${percentile(sorted, 99).toFixed(0)} ms\n`,
  );
  return { perSecond };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'rotor-bench-'));
  await chmod(stateDir, 0o711);
  const stack = await startStack({ stateDir, ports: 'free', progress: stderrProgress });
  try {
    const config = loadConfig({
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: `bench-${randomUUID()}`,
      DATABASE_URL: stack.databaseUrl,
      VAULT_ADDR: stack.vaultAddr,
      VAULT_TOKEN: stack.vaultToken,
    });
    // Counts the worker's queries only: the harness polls through its own pool below.
    let dbQueries = 0;
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ connectionString: config.databaseUrl, max: 20 }),
      }),
      log: () => void (dbQueries += 1),
    });
    await migrateOrThrow(db);
    // The harness watches progress through a pool of its own, not the worker's.
    const harnessDb = new Kysely<Database>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ connectionString: config.databaseUrl, max: 10 }),
      }),
    });
    const vault = new CountingVault(config.vault.addr, config.vault.token, config.vault.kvMount);
    const deps = {
      db,
      vault,
      notify: buildNotifyClients(config),
      targets: createTargetRegistry({ db }),
    };
    const { worker, connection } = await createRotorWorker({ config, deps });
    const client = new Client({
      connection: await Connection.connect({ address: config.temporal.address }),
    });
    const policy = policyFor(SecretType.ApiKey, { graceSeconds: 3600, maxAttempts: 3 });
    const tenantId = `bench-${randomUUID().slice(0, 8)}`;
    const names = Array.from({ length: N }, (_, i) => `key-${i}`);
    process.stderr.write(
      `… ${N} secrets, ${CONCURRENCY} at a time (Node ${process.version}, ${os.cpus().length} cores)\n`,
    );

    await worker.runUntil(async () => {
      // 1. Provision every secret (its first rotation), through Temporal.
      const provision: number[] = [];
      let started = performance.now();
      await pool(names, CONCURRENCY, async (name) => {
        const t0 = performance.now();
        const handle = await client.workflow.start(secretLifecycle, {
          taskQueue: config.temporal.taskQueue,
          workflowId: secretWorkflowId(tenantId, name),
          args: [
            {
              tenantId,
              name,
              type: SecretType.ApiKey,
              policy,
              vaultPath: secretVaultPath(tenantId, name),
              requestedBy: 'bench',
            },
          ],
        });
        await untilCurrent(harnessDb, handle.workflowId, 1);
        provision.push(performance.now() - t0);
      });
      report('Temporal: provision (v1)', provision, (performance.now() - started) / 1000);

      // 2. Rotate every secret once more: request (signal) → promoted, through Temporal.
      const rotate: number[] = [];
      started = performance.now();
      await pool(names, CONCURRENCY, async (name) => {
        const handle = client.workflow.getHandle(secretWorkflowId(tenantId, name));
        const t0 = performance.now();
        await handle.signal(rotateNowSignal, { requestedBy: 'bench', reason: 'bench' });
        await untilCurrent(harnessDb, handle.workflowId, 2);
        rotate.push(performance.now() - t0);
      });
      const temporal = report(
        'Temporal: rotate (request→promote)',
        rotate,
        (performance.now() - started) / 1000,
      );

      // 3. Baseline: the same activity code called directly, no Temporal, same concurrency.
      const acts = createActivities(deps);
      const direct: number[] = [];
      const baseTenant = `${tenantId}-direct`;
      started = performance.now();
      await pool(names, CONCURRENCY, async (name) => {
        const t0 = performance.now();
        const secretId = await acts.registerSecret({
          tenantId: baseTenant,
          name,
          type: SecretType.ApiKey,
          policy,
          workflowId: secretWorkflowId(baseTenant, name),
          vaultPath: secretVaultPath(baseTenant, name),
          requestedBy: 'bench',
        });
        const vaultPath = secretVaultPath(baseTenant, name);
        const rotationId = randomUUID();
        const ids = { rotationId, secretId, tenantId: baseTenant };
        await acts.beginRotation({
          ...ids,
          reason: 'bench',
          requestedBy: 'bench',
          fromVersion: null,
        });
        const { version } = await acts.stageVersion({
          ...ids,
          vaultPath,
          type: SecretType.ApiKey,
          expectedLatestVersion: 0,
          versionsKept: 10,
        });
        await acts.verifyVersion({ rotationId, vaultPath, version });
        await acts.promoteVersion({ ...ids, vaultPath, version });
        await acts.finishRotation({
          ...ids,
          status: 'COMPLETED',
          secretState: 'ACTIVE',
          toVersion: version,
          actor: 'bench',
        });
        direct.push(performance.now() - t0);
      });
      const baseline = report(
        'Baseline: same I/O, no Temporal',
        direct,
        (performance.now() - started) / 1000,
      );
      process.stdout.write(
        `ratio: Temporal rotate throughput is ${(temporal.perSecond / baseline.perSecond).toFixed(2)}x the direct baseline\n`,
      );

      // 4. Idle: every secret sleeps on its timer (next rotation 90 days out). Count real calls,
      // once the last rotation's bookkeeping has finished (every secret recorded IN_GRACE).
      for (;;) {
        const settled = await harnessDb
          .selectFrom('secrets')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('tenant_id', '=', tenantId)
          .where('state', '=', 'IN_GRACE')
          .executeTakeFirstOrThrow();
        if (Number(settled.n) === N) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const vaultBefore = vault.calls;
      const dbBefore = dbQueries;
      await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
      const vaultIdle = vault.calls - vaultBefore;
      const dbIdle = dbQueries - dbBefore;
      const perHour = (n: number): string => ((n / IDLE_SECONDS) * 3600 * (10_000 / N)).toFixed(0);
      process.stdout.write(
        `idle: ${N} sleeping secrets over ${IDLE_SECONDS} s made ${vaultIdle} Vault and ${dbIdle} database calls` +
          ` → ${perHour(vaultIdle)} Vault and ${perHour(dbIdle)} database calls per idle hour at 10,000 secrets` +
          ` (an hourly scan as in the seed designs: ≥10,000 Vault reads per hour)\n`,
      );
    });
    await client.connection.close();
    await connection.close();
    await db.destroy();
    await harnessDb.destroy();
  } finally {
    await stack.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`✗ ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
