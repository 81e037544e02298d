// `npm run bench:scale [-- --scale 2000 --scale-steps 4]`: only the scale figures of
// `npm run bench` (worker RSS per number of sleeping secrets and its extrapolation), on a stack of
// its own, for trying worker settings (`ROTOR_WORKER_MAX_CACHED_WORKFLOWS=200 npm run bench:scale`)
// without the other phases' quarter hour.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createDb, migrateOrThrow } from '../db';
import { SecretType, policyFor } from '../domain';
import { startStack, stderrProgress } from '../devstack';
import { runWithSizes } from './args';
import type { BenchSizes } from './args';
import { startWorkerProcess } from './processes';
import { progress } from './report';
import { workerMemory } from './scale';
import { measureRssSteps } from './scale-steps';

async function main(sizes: BenchSizes): Promise<void> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'rotor-bench-'));
  await chmod(stateDir, 0o711);
  const stack = await startStack({ stateDir, ports: 'free', progress: stderrProgress });
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const db = createDb(stack.databaseUrl, { max: 10 });
    cleanups.push(() => db.destroy());
    await migrateOrThrow(db);
    const connection = await Connection.connect({ address: stack.temporalAddress });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });
    const taskQueue = 'rotor';
    progress('Starting the worker (workers/main.ts) as a process');
    const worker = await startWorkerProcess(stack, client, {
      pepper: randomBytes(32).toString('base64url'),
      taskQueue,
    });
    cleanups.push(() => worker.service.stop());
    // Let start-up garbage settle before the first sample, as the full bench's phases do.
    await new Promise((r) => setTimeout(r, 5000));
    const atStart = await workerMemory(worker.url);
    process.stdout.write(
      `# npm run bench:scale on ${os.cpus().length} cores, Node ${process.version}; ` +
        `sizes: ${JSON.stringify({ scale: sizes.scale, scaleSteps: sizes.scaleSteps })}\n`,
    );
    const run = randomUUID().slice(0, 6);
    await measureRssSteps(client, db, {
      metricsUrl: worker.url,
      taskQueue,
      type: SecretType.ApiKey,
      policy: policyFor(SecretType.ApiKey),
      tenantOf: (i) => `s${run}-t${i % sizes.tenants}`,
      settleTenants: [],
      from: 0,
      to: sizes.scale,
      steps: sizes.scaleSteps,
      atStart,
    });
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await stack.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

runWithSizes(main);
