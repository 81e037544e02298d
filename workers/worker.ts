import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import type { Config, WorkerSettings } from '../config';
import { createActivities } from '../activities';
import type { ActivityDeps } from '../activities';
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
  const connection = await NativeConnection.connect({ address: options.config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: options.config.temporal.namespace,
    taskQueue: options.config.temporal.taskQueue,
    activities: createActivities(options.deps),
    ...workerTuning(options.config.worker),
    // Every activity log line carries the rotation id as well as the workflow id.
    interceptors: { activity: [rotationLogInterceptor] },
    ...((options.identity ?? options.config.temporal.workerIdentity)
      ? { identity: options.identity ?? options.config.temporal.workerIdentity }
      : {}),
    workflowBundle,
  });
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
