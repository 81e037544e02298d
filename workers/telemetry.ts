import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Runtime } from '@temporalio/worker';
import type { DestinationStream, Level, Logger } from 'pino';
import type { Config } from '../config';
import { PinoTemporalLogger, createLogger } from '../logging';
import { createWorkerMetrics } from './metrics';
import type { WorkerMetrics } from './metrics';
import { startMetricsServer } from './metrics-server';
import { isSdkActivityStartLine } from './rotation-log-interceptor';

export interface WorkerTelemetry {
  logger: Logger;
  metrics: WorkerMetrics;
  /** Where Prometheus scrapes this worker. */
  metricsUrl: string;
  close(): Promise<void>;
}

/**
 * Logs and metrics for a worker process; call it before anything touches Temporal. It installs
 * the Temporal runtime (logger: pino; metrics: Core's Prometheus exporter on a loopback port)
 * and serves both metric sets on the configured `/metrics` port.
 *
 * `Runtime.install` may run only once per process and must come before the first worker or
 * NativeConnection, which is why this owns it: a process runs it once at start, and a test file
 * (vitest gives each file its own process) runs it before creating workers.
 */
export async function startWorkerTelemetry(
  config: Config,
  options: {
    /** Lines go here instead of stdout (tests capture them). */
    logDestination?: DestinationStream;
    logLevel?: Level | 'silent';
    /** Signals on which the SDK shuts workers down itself; `npm start` orders shutdown itself. */
    shutdownSignals?: NodeJS.Signals[];
  } = {},
): Promise<WorkerTelemetry> {
  const logger = createLogger({
    name: 'rotor-worker',
    level: options.logLevel ?? config.logLevel,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const sdkPort = await freeLoopbackPort();
  Runtime.install({
    logger: new PinoTemporalLogger(logger, isSdkActivityStartLine),
    ...(options.shutdownSignals ? { shutdownSignals: options.shutdownSignals } : {}),
    telemetryOptions: {
      // Core's own (Rust) lines go through pino too, warnings and up.
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      metrics: {
        prometheus: { bindAddress: `127.0.0.1:${sdkPort}`, useSecondsForDurations: true },
      },
    },
  });
  const metrics = createWorkerMetrics();
  const server = await startMetricsServer({
    host: config.workerMetrics.host,
    port: config.workerMetrics.port,
    registry: metrics.registry,
    sdkMetricsUrl: `http://127.0.0.1:${sdkPort}/metrics`,
  });
  logger.info({ metricsUrl: server.url }, 'Worker metrics served');
  return {
    logger,
    metrics,
    metricsUrl: server.url,
    async close() {
      await server.close();
      logger.flush();
    },
  };
}

/**
 * A loopback port nothing listens on right now, for Core's exporter, which cannot report the
 * port it bound. Another process could take it in between; Runtime.install then fails at start.
 */
async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
