import type { BundleOptions } from '@temporalio/worker';

/**
 * How Rotor's workflows are bundled, the same for workers and tests (so the tests run the bundle
 * production runs).
 *
 * `preloadModules`: the workflow modules are evaluated once per worker thread, in the reused V8
 * context's shared module cache, instead of once per workflow in its own cache. Each cached
 * workflow then holds only its own state, not a private copy of every workflow and domain module
 * (measured: README "Performance", worker RSS). Safe because these modules keep no state at module
 * scope: they define constants, message definitions and activity proxies (which find the running
 * workflow at call time); the SDK deep-freezes what they export, so a module that tried to keep
 * per-workflow state there would fail loudly, not leak.
 */
export function workflowBundleOptions(
  workflowsPath: string,
): Pick<BundleOptions, 'workflowsPath' | 'preloadModules'> {
  return { workflowsPath, preloadModules: [workflowsPath] };
}
