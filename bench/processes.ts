import path from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Stack } from '../devstack';
import { freePort } from '../devstack';
import { REPO_ROOT } from '../devstack/paths';
import { startService } from '../devstack/service';
import type { Service } from '../devstack/service';

/** A Rotor process the bench runs as users do: the production entry point, config from env. */
export interface RotorProcess {
  service: Service;
  url: string;
}

/**
 * What both processes read. The caller's environment comes first, so the worker settings can be
 * tried out (`ROTOR_WORKER_MAX_CACHED_WORKFLOWS=200 npm run bench`); the stack's addresses win.
 */
function rotorEnv(stack: Stack, pepper: string, taskQueue: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: stack.databaseUrl,
    VAULT_ADDR: stack.vaultAddr,
    VAULT_TOKEN: stack.vaultToken,
    VAULT_KV_MOUNT: stack.kvMount,
    ROTOR_API_KEY_PEPPER: pepper,
    LOG_LEVEL: 'warn',
    // No schedules of their own during the measurement, and digests that settle quickly.
    ROTOR_SECURITY_REPORT_INTERVAL_SECONDS: '0',
    ROTOR_AUDIT_RETENTION_DAYS: '0',
    ROTOR_NOTIFY_OUTBOX_RETENTION_DAYS: '0',
    ROTOR_NOTIFY_DIGEST_SECONDS: '1',
  };
}

async function until(what: string, service: Service, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (await check().catch(() => false)) return;
    const exited = await Promise.race([service.exited, new Promise((r) => setTimeout(r, 250))]);
    if (exited !== undefined || Date.now() > deadline) {
      throw new Error(`${what} did not start:\n${service.logTail(30)}`);
    }
  }
}

/** `node --import tsx workers/main.ts`, ready once it polls its task queue. */
export async function startWorkerProcess(
  stack: Stack,
  client: Client,
  options: { pepper: string; taskQueue: string },
): Promise<RotorProcess> {
  const port = await freePort();
  const service = startService('worker', process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...rotorEnv(stack, options.pepper, options.taskQueue),
      ROTOR_WORKER_METRICS_PORT: String(port),
      // As the image and docker-compose run it (README "Performance", worker memory).
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
    },
    logFile: path.join(stack.stateDir, 'logs', 'worker.log'),
  });
  await until('The worker', service, async () => {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: options.taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (pollers?.length ?? 0) > 0;
  });
  return { service, url: `http://127.0.0.1:${port}/metrics` };
}

/** `node --import tsx api/server.ts`, ready once /healthz answers. */
export async function startApiProcess(
  stack: Stack,
  options: { pepper: string; taskQueue: string },
): Promise<RotorProcess> {
  const port = await freePort();
  const service = startService('api', process.execPath, ['--import', 'tsx', 'api/server.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...rotorEnv(stack, options.pepper, options.taskQueue),
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
    },
    logFile: path.join(stack.stateDir, 'logs', 'api.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  await until('The API', service, async () => (await fetch(`${url}/healthz`)).status < 500);
  return { service, url };
}

/** Sums a metric's samples on a Prometheus endpoint (every label set), or 0 if absent. */
export async function scrape(url: string, metric: string): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${metric} `) || line.startsWith(`${metric}{`)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}
