// `npm start`: the whole of Rotor on one machine, on embedded defaults. Starts the real local
// stack (Temporal dev server, OpenBao, PostgreSQL, Redis, MariaDB), migrates, then runs a worker and the API in
// this process. Ctrl-C stops everything; state persists in .rotor-dev/ for the next start.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { buildApp } from '../api/app';
import {
  ensureAuditRetentionSchedule,
  ensureOutboxRetentionSchedule,
  ensureSecurityReportSchedule,
} from '../control';
import { ensureBootstrapAdmin } from '../api/auth/tokens';
import { loadConfig, ConfigError } from '../config';
import { migrateOrThrow } from '../db';
import {
  DevstackError,
  MARIADB_SWITCH_ENV,
  PORT_ENV_VARS,
  startStack,
  stderrProgress,
} from '../devstack';
import type { Stack, StackMariaDb, StackPorts } from '../devstack';
import { REPO_ROOT } from '../devstack/paths';
import { startDevMailbox } from '../devstack/smtp';
import { fileAndConsole } from '../logging';
import { buildEngineClients, buildHealthChecks, connectTemporalClient } from '../engine';
import { activityDepsFor } from './activity-deps';
import { startWorkerTelemetry } from './telemetry';
import { createRotorWorker } from './worker';

const DEFAULT_PORTS: StackPorts = {
  temporal: 7233,
  temporalUi: 8233,
  openbao: 8200,
  openbaoCluster: 8201,
  postgres: 54329,
  redis: 63799,
  mariadb: 33069,
};

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ConfigError([`${name} must be a port number (1-65535)`]);
  }
  return value;
}

/** MariaDB is started unless ROTOR_DEV_MARIADB=off (e.g. a machine without apt). */
function mariaDbWanted(): boolean {
  const raw = process.env[MARIADB_SWITCH_ENV];
  if (raw === undefined || raw === '' || raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError([`${MARIADB_SWITCH_ENV} must be "on" or "off"`]);
}

function portsFromEnv(): StackPorts {
  const ports = { ...DEFAULT_PORTS };
  for (const key of Object.keys(ports) as (keyof StackPorts)[]) {
    ports[key] = portFromEnv(PORT_ENV_VARS[key], ports[key]);
  }
  return ports;
}

async function main(): Promise<void> {
  const progress = stderrProgress;
  const shutdownSteps: (() => Promise<unknown>)[] = [];
  let stopping = false;
  const shutdown = async (code: number): Promise<never> => {
    if (stopping) process.exit(code);
    stopping = true;
    progress.step('Stopping Rotor and the local stack');
    for (const step of shutdownSteps.reverse()) await step().catch(() => undefined);
    progress.done('Stopped');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void shutdown(0));
  }

  const stack: Stack = await startStack({
    // ROTOR_DEV_STATE_DIR lets a test (or a second copy) keep its state elsewhere.
    stateDir: process.env.ROTOR_DEV_STATE_DIR || path.join(REPO_ROOT, '.rotor-dev'),
    ports: portsFromEnv(),
    progress,
    mariadb: mariaDbWanted(),
  });
  shutdownSteps.push(() => stack.stop());

  const smtpPort = portFromEnv('ROTOR_DEV_SMTP_PORT', 2525);
  const mailbox = await startDevMailbox({ port: smtpPort, dir: path.join(stack.stateDir, 'mail') });
  shutdownSteps.push(() => mailbox.stop());

  // Defaults for the local stack only; anything set in the environment wins.
  const config = loadConfig({
    SMTP_URL: mailbox.url,
    ROTOR_SECURITY_EMAILS: 'security@localhost',
    ROTOR_OPS_EMAILS: 'ops@localhost',
    ROTOR_NOTIFY_DIGEST_SECONDS: '10',
    // The local stack's own PostgreSQL serves as the role-rotation target, reached as its
    // superuser for convenience; production uses a least-privileged login (README).
    ROTOR_TARGET_DATABASE_URL: stack.targetDatabaseUrl,
    ROTOR_API_KEY_PEPPER: await localPepper(stack.stateDir),
    // The SDK's INFO lines (webpack stats) drown the start-up summary; warnings still show.
    LOG_LEVEL: 'warn',
    ...process.env,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    DATABASE_URL: stack.databaseUrl,
    VAULT_ADDR: stack.vaultAddr,
    VAULT_TOKEN: stack.vaultToken,
    VAULT_KV_MOUNT: stack.kvMount,
  });
  // Before any Temporal connection: it installs the runtime. Signals are handled here, in order:
  // worker, API, then the servers, so the SDK is given none of its own.
  // Full logs go to files in the state folder; the terminal shows warnings (or LOG_LEVEL) only.
  const fileLevel =
    config.logLevel === 'trace' || config.logLevel === 'debug' ? config.logLevel : 'info';
  const logFile = (name: string): string => path.join(stack.stateDir, 'logs', `${name}.log`);
  const telemetry = await startWorkerTelemetry(config, {
    shutdownSignals: [],
    logLevel: fileLevel,
    logDestination: fileAndConsole(logFile('worker'), config.logLevel),
  });
  shutdownSteps.push(() => telemetry.close());
  const clients = buildEngineClients(config, { observeVault: telemetry.metrics.observeVault });
  shutdownSteps.push(() => clients.db.destroy());
  shutdownSteps.push(() => clients.close());

  await migrateOrThrow(clients.db);
  progress.done('Engine database migrated');

  progress.step('Bundling workflows and starting the worker');
  const { worker, connection } = await createRotorWorker({
    config,
    deps: activityDepsFor(clients),
  });
  shutdownSteps.push(() => connection.close());
  const running = runWorker(worker);
  shutdownSteps.push(async () => {
    worker.shutdown();
    await running;
  });
  progress.done(`Worker polling task queue "${config.temporal.taskQueue}"`);

  const temporal = await connectTemporalClient(config);
  shutdownSteps.push(() => temporal.connection.close());
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
  const app = buildApp({
    checks: buildHealthChecks(clients, temporal.connection),
    logLevel: fileLevel,
    logStream: fileAndConsole(logFile('api'), config.logLevel),
    services: { db: clients.db, temporal, config, vault: clients.vault },
  });
  const bootstrap = await ensureBootstrapAdmin(clients.db);
  shutdownSteps.push(() => app.close());
  await app.listen({ host: config.api.host, port: config.api.port });

  const apiUrl = `http://${config.api.host}:${config.api.port}`;
  process.stdout.write(
    [
      '',
      'Rotor is running.',
      `  API          ${apiUrl}   (health: ${apiUrl}/healthz)`,
      `  Temporal UI  ${stack.temporalUiUrl}`,
      `  Temporal     ${stack.temporalAddress}`,
      `  OpenBao      ${stack.vaultAddr}`,
      `  Redis        127.0.0.1:${new URL(stack.redisAdminUrl).port} (admin password in ${path.join(stack.stateDir, 'redis', 'credentials.json')})`,
      ...mariaDbBanner(stack.mariadb),
      `  Mail (SMTP)  ${mailbox.url}, filed in ${mailbox.dir}`,
      `  State, logs  ${stack.stateDir}`,
      // Local secrets, readable by this user only (mode 0600): where to find them when needed.
      `  Root token   ${path.join(stack.stateDir, 'openbao', 'init.json')} (OpenBao, mode 0600)`,
      `  DB superuser ${path.join(stack.stateDir, 'postgres', 'credentials.json')} (mode 0600)`,
      `  DB cluster   ${stack.postgresClusterDir}`,
      `  API docs     ${apiUrl}/docs   (OpenAPI: ${apiUrl}/openapi.json)`,
      `  Metrics      ${apiUrl}/metrics (engine), ${telemetry.metricsUrl} (worker)`,
      ...(bootstrap
        ? ['', 'First start: bootstrap admin token (shown once, store it now):', `  ${bootstrap}`]
        : []),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

/** The banner's MariaDB lines: where it listens and how to reach it, or why it is not running. */
function mariaDbBanner(mariadb: StackMariaDb | undefined): string[] {
  if (!mariadb) return [`  MariaDB      off (${MARIADB_SWITCH_ENV}=off)`];
  if (!mariadb.available) {
    return [
      `  MariaDB      unavailable: its packages could not be fetched (the ⚠ line above says what to install; ${MARIADB_SWITCH_ENV}=off skips it)`,
    ];
  }
  return [
    `  MariaDB      ${mariadb.host}:${mariadb.port} ${mariadb.version} (admin ${mariadb.adminUser}, password in ${mariadb.credentialsFile})`,
    `  SQL shell    ${mariadb.client} --defaults-extra-file=${mariadb.clientOptionsFile}`,
  ];
}

async function runWorker(worker: Worker): Promise<void> {
  try {
    await worker.run();
  } catch (err) {
    process.stderr.write(`worker stopped: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof DevstackError || err instanceof ConfigError) {
    process.stderr.write(`\n✗ ${err.message}\n`);
  } else {
    process.stderr.write(
      `\n✗ Rotor failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
    );
  }
  // The exit hook in devstack/service.ts kills any server already started.
  process.exit(1);
});

/** A random API-key pepper made on first start and kept with the local stack's state (0600). */
async function localPepper(stateDir: string): Promise<string> {
  const file = path.join(stateDir, 'api-key-pepper');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const pepper = randomBytes(32).toString('base64url');
    await writeFile(file, pepper, { mode: 0o600 });
    return pepper;
  }
}
