import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { VaultRequestObserver } from '../vault';

/**
 * Metrics of the Temporal SDK's own (Core's Prometheus exporter, see workers/telemetry.ts) that
 * Rotor's dashboard and alerts use. They are not in a prom-client registry, so they are listed
 * here; the metrics e2e test proves each one appears on a live worker's endpoint.
 */
export const TEMPORAL_SDK_METRICS = [
  'temporal_worker_task_slots_available',
  'temporal_worker_task_slots_used',
  'temporal_num_pollers',
  'temporal_workflow_task_schedule_to_start_latency',
  'temporal_workflow_task_execution_latency',
  'temporal_activity_schedule_to_start_latency',
  'temporal_activity_execution_latency',
  'temporal_activity_execution_failed',
  'temporal_request',
] as const;

export interface WorkerMetrics {
  registry: Registry;
  /** Hand this to VaultKv: it feeds `vault_request_duration_seconds`. */
  observeVault: VaultRequestObserver;
}

/**
 * The worker process's own metrics. Vault request timings are observed where the requests are
 * made, so each worker counts its own; Prometheus sums the workers (`sum by (le, …)`).
 */
export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rotor_worker_' });
  const vault = new Histogram({
    name: 'vault_request_duration_seconds',
    help: 'Vault KV v2 requests made by activities, by operation and outcome',
    labelNames: ['operation', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    registry,
    observeVault: (operation, outcome, seconds) => vault.observe({ operation, outcome }, seconds),
  };
}
