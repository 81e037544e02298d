// `tsx workers/main.ts`: a production worker process (docker-compose runs it). Config from env.
import {
  ensureAuditRetentionSchedule,
  ensureOutboxRetentionSchedule,
  ensureSecurityReportSchedule,
} from '../control';
import { loadConfigOrExit } from '../config';
import { buildEngineClients, connectTemporalClient } from '../engine';
import { activityDepsFor } from './activity-deps';
import { startWorkerTelemetry } from './telemetry';
import { createRotorWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // First: it installs the Temporal runtime (pino logs, SDK metrics) before any connection.
  const telemetry = await startWorkerTelemetry(config);
  const clients = buildEngineClients(config, { observeVault: telemetry.metrics.observeVault });
  const { worker, connection } = await createRotorWorker({
    config,
    deps: activityDepsFor(clients),
  });
  // Every worker keeps the report schedule in step with its config; creating it twice is a no-op.
  const temporal = await connectTemporalClient(config);
  try {
    await ensureSecurityReportSchedule(temporal, {
      taskQueue: config.temporal.taskQueue,
      intervalSeconds: config.securityReportIntervalSeconds,
    });
    await ensureAuditRetentionSchedule(temporal, {
      taskQueue: config.temporal.taskQueue,
      olderThanSeconds: config.auditRetentionDays * 86_400,
    });
    await ensureOutboxRetentionSchedule(temporal, {
      taskQueue: config.temporal.taskQueue,
      olderThanSeconds: config.outboxRetentionDays * 86_400,
    });
  } finally {
    await temporal.connection.close();
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => worker.shutdown());
  telemetry.logger.info(
    { taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace },
    'Worker polling',
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
    await clients.db.destroy();
    await clients.close();
    await telemetry.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `rotor worker failed: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
