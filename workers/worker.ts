import path from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import type { Config, WorkerSettings } from '../config';
import { createActivities } from '../activities';
import type { ActivityDeps } from '../activities';
import { startOutboxSweeps } from '../activities/notify/outbox-sweep';
import { WORKER_COALESCE_MS, createNotifierWakeups } from '../activities/notify/wakeups';
import { rotationLogInterceptor } from './rotation-log-interceptor';
import { ensureWorkflowBundle } from './workflow-bundle';

/** The workflow-bundle cache when ROTOR_WORKER_WORKFLOW_BUNDLE_DIR is unset (git-ignored). */
export const DEFAULT_WORKFLOW_BUNDLE_DIR = path.resolve(__dirname, '..', '.rotor-bundles');

/**
 * A Rotor worker on the configured task queue. Pass a prebuilt workflowBundle (tests bundle once
 * per run); otherwise the bundle for the current sources comes from the bundle cache, built there
 * first in a child process if missing, so webpack never runs inside the worker.
 */
export async function createRotorWorker(options: {
  config: Config;
  deps: ActivityDeps;
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** Told when the workflows have to be bundled first (a fresh cache). */
  log?: (message: string) => void;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const workflowBundle = options.workflowBundle ?? {
    codePath: await ensureWorkflowBundle(
      options.config.worker.workflowBundleDir ?? DEFAULT_WORKFLOW_BUNDLE_DIR,
      options.log,
    ),
  };
  const { config } = options;
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  // Notifiers drain the outbox only when woken: this worker owes the wake-ups of the rows its
  // activities write, retried over its own connection until they get through, and stops
  // retrying when it shuts down (the rows wait for the next worker's startup sweep).
  const built: { worker?: Worker } = {};
  const active = (): boolean =>
    built.worker === undefined || ['INITIALIZED', 'RUNNING'].includes(built.worker.getState());
  // The runtime's logger: the worker's pino logger once telemetry has installed it.
  const log = Runtime.instance().logger;
  const wakeups =
    options.deps.notify.wakeups ??
    createNotifierWakeups({
      client: new Client({ connection, namespace: config.temporal.namespace }),
      taskQueue: config.temporal.taskQueue,
      digestSeconds: config.notifications.digestSeconds,
      coalesceMs: WORKER_COALESCE_MS,
      active,
      log: (message, fields) => {
        log.warn(message, fields);
      },
    });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities({
      ...options.deps,
      notify: { ...options.deps.notify, wakeups },
    }),
    ...workerTuning(options.config.worker),
    // Every activity log line carries the rotation id as well as the workflow id.
    interceptors: { activity: [rotationLogInterceptor] },
    ...((options.identity ?? options.config.temporal.workerIdentity)
      ? { identity: options.identity ?? options.config.temporal.workerIdentity }
      : {}),
    workflowBundle,
  });
  built.worker = worker;
  // Rows whose writer died before waking their notifier: one query now, before any task is
  // polled (then, if configured, one every ROTOR_NOTIFY_OUTBOX_SWEEP_SECONDS while running).
  await startOutboxSweeps({
    db: options.deps.db,
    wakeups,
    everySeconds: config.notifications.outboxSweepSeconds ?? 0,
    active,
    log: (message, fields) => {
      log.info(message, fields);
    },
  }).firstQuery;
  return { worker, connection };
}

/**
 * The Worker options a Rotor worker is sized by (ROTOR_WORKER_* in config). The SDK's default
 * cache grows with the heap limit (thousands of workflows, about 1 MB each): bounded here, so
 * 100,000 sleeping secrets cost their timers on the server and nothing in the worker.
 */
export function workerTuning(
  settings: WorkerSettings,
): Pick<
  WorkerOptions,
  | 'maxCachedWorkflows'
  | 'maxConcurrentWorkflowTaskExecutions'
  | 'maxConcurrentActivityTaskExecutions'
  | 'maxConcurrentLocalActivityExecutions'
  | 'stickyQueueScheduleToStartTimeout'
> {
  return {
    maxCachedWorkflows: settings.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: settings.maxConcurrentWorkflowTasks,
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: settings.maxConcurrentLocalActivities,
    stickyQueueScheduleToStartTimeout: settings.stickyQueueTimeoutSeconds * 1000,
  };
}
