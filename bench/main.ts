// `npm run bench [-- --emergency 10000 --scale 100000] [-- --only api-keys]`: every figure of issue 14 on the real
// local stack, each beside its baseline from the same run, one line per figure on stdout
// (progress on stderr). Figures only: nothing here is asserted. Sizes are flags (bench/args.ts);
// each line says the size it was measured at, and nothing is extrapolated except where a line
// says so (idle calls per hour, scaled from the idle window).
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Kysely, PostgresDialect, sql } from 'kysely';
import nodeVault from 'node-vault';
import pg from 'pg';
import { createToken } from '../api/auth/tokens';
import { createTargetRegistry } from '../activities';
import { createDb, migrateOrThrow } from '../db';
import { Role, SecretType, TargetKind, policyFor, secretVaultPath } from '../domain';
import { startStack, stderrProgress } from '../devstack';
import { VaultKv } from '../vault';
import { verifyInProcess, verifyOverHttp } from './api-keys';
import { runWithSizes, runsPhase } from './args';
import type { BenchRun } from './args';
import { cpuBetween, sampleCpu } from './cpu';
import { createDirectPath } from './direct';
import { bulkRotateViaApi } from './emergency';
import {
  directPath,
  lifecycleSecret,
  provisionDirect,
  provisionLifecycles,
  temporalPath,
} from './paths';
import type { LifecycleSecret } from './paths';
import { startApiProcess, startWorkerProcess } from './processes';
import { closedLoop, oneAtATime, openLoop } from './rotations';
import { figure, latencySummary, mb, ms, perSecond, progress } from './report';
import { countCalls, temporalDbBytes, workerMemory } from './scale';
import { measureRssSteps } from './scale-steps';
import { StepTimes, recordHistorySteps, sandboxEntryMicros } from './steps';
import { RotationWatcher } from './watcher';

const TYPE = SecretType.ApiKey;
// The type's default policy (90-day interval, 7-day grace): nothing falls due during a run.
const POLICY = policyFor(TYPE);

async function main(sizes: BenchRun): Promise<void> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'rotor-bench-'));
  await chmod(stateDir, 0o711);
  // The same dev-server settings as `npm start` (WAL, synchronous=NORMAL, eager activities).
  const stack = await startStack({ stateDir, ports: 'free', progress: stderrProgress });
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    await run(sizes, stack, cleanups);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await stack.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

async function run(
  sizes: BenchRun,
  stack: Awaited<ReturnType<typeof startStack>>,
  cleanups: (() => Promise<unknown>)[],
): Promise<void> {
  const db = createDb(stack.databaseUrl, { max: 10 });
  cleanups.push(() => db.destroy());
  await migrateOrThrow(db);
  const adminPool = new pg.Pool({ connectionString: stack.postgresAdminUrl, max: 1 });
  // As db/connect.ts does for every pool: a connection the server drops (the stack stopping
  // first) is reported by the next query, never thrown as an unhandled 'error' event.
  adminPool.on('error', () => undefined);
  adminPool.on('connect', (c) => c.on('error', () => undefined));
  const admin = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: adminPool }) });
  cleanups.push(() => admin.destroy());
  // The statement counts the scale phase reads (the server preloads the module).
  await sql`create extension if not exists pg_stat_statements`.execute(admin);

  const connection = await Connection.connect({ address: stack.temporalAddress });
  cleanups.push(() => connection.close());
  const client = new Client({ connection });
  const pepper = randomBytes(32).toString('base64url');
  const taskQueue = 'rotor';
  const temporalDbEmpty = await temporalDbBytes(stack);

  progress('Starting the worker (workers/main.ts) and the API (api/server.ts) as processes');
  const worker = await startWorkerProcess(stack, client, { pepper, taskQueue });
  cleanups.push(() => worker.service.stop());
  const api = await startApiProcess(stack, { pepper, taskQueue });
  cleanups.push(() => api.service.stop());
  const memoryAtStart = await workerMemory(worker.url);
  const groups = { worker: worker.service.pid, api: api.service.pid };

  // The baseline runs in this process over real clients of its own, the worker's pool size.
  const vault = new VaultKv(
    nodeVault({ apiVersion: 'v1', endpoint: stack.vaultAddr, token: stack.vaultToken }),
    stack.kvMount,
  );
  const direct = createDirectPath(
    {
      db,
      vault,
      notify: {
        config: { security: { emails: [] }, ops: { emails: [] }, digestSeconds: 1 },
        // The baseline writes the outbox rows but wakes no notifier workflow (that needs Temporal).
        wakeups: { wake: () => Promise.resolve(), owed: () => new Set(), close: () => undefined },
      },
      targets: createTargetRegistry({ db }),
    },
    TYPE,
    POLICY,
  );
  const watcher = new RotationWatcher(db);
  cleanups.push(() => Promise.resolve(watcher.stop()));

  const run = randomUUID().slice(0, 6);
  const tenant = (side: 't' | 'd', i: number): string => `b${run}-${side}${i % sizes.tenants}`;
  const batch = (side: 't' | 'd', phase: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ tenantId: tenant(side, i), name: `${phase}-${i}` }));
  const emergencyTenant = { t: `b${run}-em`, d: `b${run}-dem` };
  const emergencySpecs = (side: 't' | 'd') =>
    Array.from({ length: sizes.emergency }, (_, i) => ({
      tenantId: emergencyTenant[side],
      name: `em-${i}`,
    }));

  process.stdout.write(
    `# npm run bench on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}; ` +
      `sizes: ${JSON.stringify(sizes)}\n`,
  );

  // Setup: every secret the chosen phases rotate, provisioned once on each path.
  const wants = {
    single: runsPhase(sizes, 'single'),
    // The open loop's rate is half the throughput phase's measured capacity.
    throughput: runsPhase(sizes, 'throughput') || runsPhase(sizes, 'open'),
    open: runsPhase(sizes, 'open'),
    emergency: runsPhase(sizes, 'emergency'),
    apiKeys: runsPhase(sizes, 'api-keys'),
    scale: runsPhase(sizes, 'scale'),
  };
  const phases = {
    single: wants.single ? sizes.single : 0,
    open: wants.open ? sizes.open : 0,
    tp: wants.throughput ? sizes.throughput : 0,
  };
  const lifecycles: Record<string, LifecycleSecret[]> = {};
  for (const [phase, n] of Object.entries(phases)) {
    lifecycles[phase] = batch('t', phase, n).map((s) => lifecycleSecret(s.tenantId, s.name));
  }
  lifecycles.em = (wants.emergency ? emergencySpecs('t') : []).map((s) =>
    lifecycleSecret(s.tenantId, s.name),
  );
  const apiKeySecret = lifecycleSecret(`b${run}-keys`, 'partner-key');
  const allLifecycles = [...Object.values(lifecycles).flat(), apiKeySecret];
  progress(`Provisioning ${allLifecycles.length} lifecycles through Temporal`);
  const rotated = Object.values(lifecycles).flat();
  const provisionRate =
    rotated.length === 0
      ? 0
      : await provisionLifecycles(client, db, {
          taskQueue,
          secrets: rotated,
          type: TYPE,
          policy: POLICY,
          label: 'provisioning',
        });
  await provisionLifecycles(client, db, {
    taskQueue,
    secrets: [apiKeySecret],
    type: TYPE,
    policy: POLICY,
    target: { kind: TargetKind.TenantApiKey },
    label: 'API key',
  });
  progress(`Provisioning the baseline's secrets directly`);
  const directSecrets: Record<string, Awaited<ReturnType<typeof provisionDirect>>['secrets']> = {};
  const directStarted = Date.now();
  for (const [phase, n] of Object.entries(phases)) {
    directSecrets[phase] = (
      await provisionDirect(direct, batch('d', phase, n), sizes.concurrency)
    ).secrets;
  }
  directSecrets.em = (
    await provisionDirect(direct, wants.emergency ? emergencySpecs('d') : [], sizes.concurrency)
  ).secrets;
  const directProvisionRate =
    Object.values(directSecrets).flat().length / ((Date.now() - directStarted) / 1000);
  if (rotated.length > 0) {
    figure(
      'provision (register + first version)',
      perSecond(provisionRate),
      perSecond(directProvisionRate),
      {
        size: `${allLifecycles.length} lifecycles, ${sizes.concurrency} in flight; setup, not a goal`,
      },
    );
  }

  const onTemporal = temporalPath(client);
  const onDirect = directPath(direct, watcher);
  const tenantsNote = `${sizes.tenants} tenants`;

  if (wants.single) {
    // 1. A single rotate-now with nothing else running.
    progress(`Single rotate-now, ${sizes.single} one at a time on each path`);
    // Each rotation's request time, to place its history's first step.
    const requestedAt = new Map<string, number>();
    const singleT = await oneAtATime(
      {
        request: (secret) => {
          requestedAt.set(secret.workflowId, Date.now());
          return onTemporal.request(secret);
        },
        drain: () => onTemporal.drain(),
      },
      watcher,
      lifecycles.single ?? [],
    );
    const stepsD = new StepTimes();
    const singleD = await oneAtATime(
      directPath(direct, watcher, stepsD.record),
      watcher,
      directSecrets.single ?? [],
    );
    const singleSize = {
      size: `${sizes.single} sequential rotations; p99 of ${sizes.single} is their slowest`,
    };
    figure(
      'unloaded rotate-now → promoted',
      latencySummary(singleT.toPromoted),
      latencySummary(singleD.toPromoted),
      {
        goal: 'p50 ≤100 ms, p99 ≤250 ms',
        ...singleSize,
      },
    );
    figure(
      'unloaded rotate-now → finished',
      latencySummary(singleT.toFinished),
      latencySummary(singleD.toFinished),
      singleSize,
    );
    const stepsT = new StepTimes();
    for (const secret of lifecycles.single ?? []) {
      const at = requestedAt.get(secret.workflowId);
      if (at !== undefined) await recordHistorySteps(client, secret.workflowId, at, stepsT);
    }
    const sandbox = sandboxEntryMicros();
    process.stdout.write(
      `  per step, Rotor (p50, from the workflow histories): ${stepsT.summary()}\n` +
        `  per step, baseline (p50, each call timed):         ${stepsD.summary()}\n` +
        `  entering a workflow sandbox on this machine: ${sandbox.withTimeout.toFixed(0)} µs a call with ` +
        `the SDK's deadlock timeout (a watchdog thread per call), ${sandbox.without.toFixed(1)} µs without\n`,
    );
  }
  if (wants.throughput) {
    // 2. Throughput, closed loop.
    progress(
      `Throughput: ${sizes.throughput} rotations, ${sizes.concurrency} in flight, on each path`,
    );
    let cpu = sampleCpu(stack, groups);
    const tpT = await closedLoop(onTemporal, watcher, lifecycles.tp ?? [], sizes.concurrency);
    const cpuT = cpuBetween(cpu, sampleCpu(stack, groups), sizes.throughput, 'ms');
    cpu = sampleCpu(stack, groups);
    const tpD = await closedLoop(onDirect, watcher, directSecrets.tp ?? [], sizes.concurrency);
    const cpuD = cpuBetween(cpu, sampleCpu(stack, groups), sizes.throughput, 'ms');
    const tpSize = {
      size: `${sizes.throughput} rotations, ${sizes.concurrency} in flight, ${tenantsNote}`,
    };
    figure(
      'throughput request → promoted',
      perSecond(tpT.promotedPerSecond),
      perSecond(tpD.promotedPerSecond),
      {
        goal: '≥50/s',
        ...tpSize,
      },
    );
    figure(
      'throughput request → finished',
      perSecond(tpT.finishedPerSecond),
      perSecond(tpD.finishedPerSecond),
      tpSize,
    );
    figure(
      'ratio Rotor / baseline (promoted)',
      `${(tpT.promotedPerSecond / tpD.promotedPerSecond).toFixed(2)}x`,
      '1.00x',
      {
        goal: '≥0.75x',
        ...tpSize,
      },
    );
    figure(
      'latency under closed loop → promoted',
      latencySummary(tpT.toPromoted),
      latencySummary(tpD.toPromoted),
      tpSize,
    );
    process.stdout.write(
      `  CPU per rotation, Rotor:    ${cpuT}\n  CPU per rotation, baseline: ${cpuD}\n`,
    );

    if (wants.open) {
      // 3. Open loop at half of each path's measured capacity.
      const rateT = tpT.promotedPerSecond / 2;
      const rateD = tpD.promotedPerSecond / 2;
      progress(
        `Open loop: ${sizes.open} requests at ${rateT.toFixed(1)}/s (Rotor) and ${rateD.toFixed(1)}/s (baseline)`,
      );
      const openT = await openLoop(onTemporal, watcher, lifecycles.open ?? [], rateT);
      const openD = await openLoop(onDirect, watcher, directSecrets.open ?? [], rateD);
      figure(
        'open loop at ½ capacity → promoted',
        `${latencySummary(openT.toPromoted)} @${rateT.toFixed(1)}/s`,
        `${latencySummary(openD.toPromoted)} @${rateD.toFixed(1)}/s`,
        { goal: 'p99 ≤1 s', size: `${sizes.open} requests each, ${tenantsNote}` },
      );
    }
  }
  if (wants.emergency) {
    // 4. Emergency: one bulk request over a tenant's secrets.
    const adminToken = (await createToken(db, { name: 'bench', role: Role.Admin })).token;
    progress(`Emergency: one bulk request over ${sizes.emergency} secrets`);
    const cpu = sampleCpu(stack, groups);
    const emT = await bulkRotateViaApi({
      apiUrl: api.url,
      adminToken,
      db,
      tenantId: emergencyTenant.t,
      expected: sizes.emergency,
    });
    const cpuEm = cpuBetween(cpu, sampleCpu(stack, groups), sizes.emergency, 'ms');
    const emD = await closedLoop(onDirect, watcher, directSecrets.em ?? [], sizes.concurrency);
    figure(
      'emergency: all promoted',
      `${emT.seconds.toFixed(1)} s (${perSecond(emT.total / emT.seconds)})`,
      `${emD.seconds.toFixed(1)} s (${perSecond(emD.promotedPerSecond)})`,
      {
        goal: '10,000 in ≤200 s',
        size: `${sizes.emergency} secrets of one tenant; baseline ${sizes.concurrency} in flight`,
      },
    );
    process.stdout.write(`  CPU per emergency rotation, Rotor: ${cpuEm}\n`);
  }
  if (wants.apiKeys) {
    // 5. Tenant API-key verification over HTTP.
    const keyValue = String(
      (await vault.read(secretVaultPath(apiKeySecret.tenantId, apiKeySecret.name)))?.data.value,
    );
    const tenantToken = (
      await createToken(db, {
        name: 'bench-tenant',
        role: Role.Tenant,
        tenantId: apiKeySecret.tenantId,
      })
    ).token;
    const check = await fetch(`${api.url}/api/v1/api-keys/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenantToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: keyValue }),
    }).then((r) => r.json() as Promise<{ valid?: boolean }>);
    if (check.valid !== true) throw new Error('the provisioned API key does not verify');
    progress(
      `API-key verification: ${sizes.apiKeySeconds} s of autocannon, ${sizes.apiKeyConnections} connections, pipelining ${sizes.apiKeyPipelining}`,
    );
    const cpu = sampleCpu(stack, groups);
    const http = await verifyOverHttp({
      apiUrl: api.url,
      token: tenantToken,
      key: keyValue,
      seconds: sizes.apiKeySeconds,
      connections: sizes.apiKeyConnections,
      pipelining: sizes.apiKeyPipelining,
    });
    const cpuAfter = sampleCpu(stack, groups);
    const cpuHttp = cpuBetween(cpu, cpuAfter);
    const cpuPerRequest = cpuBetween(cpu, cpuAfter, http.total / 1000, 'ms');
    const inProcess = await verifyInProcess({
      db,
      pepper,
      key: keyValue,
      seconds: sizes.apiKeySeconds,
      connections: sizes.apiKeyConnections,
    });
    figure(
      'API-key verifications over HTTP',
      `${perSecond(http.perSecond)} p99 ${ms(http.p99)}`,
      `${perSecond(inProcess.perSecond)} p99 ${ms(inProcess.p99)} (in-process lookup)`,
      {
        goal: '≥10,000/s',
        size: `${sizes.apiKeySeconds} s, ${sizes.apiKeyConnections} connections, pipelining ${sizes.apiKeyPipelining}, autocannon in the bench process`,
      },
    );
    process.stdout.write(
      `  CPU during the HTTP run: ${cpuHttp}\n  CPU per 1,000 HTTP verifications: ${cpuPerRequest}\n`,
    );
  }
  if (wants.scale) {
    // 6. Scale: top up to the asked number of sleeping lifecycles in steps, the worker's memory at
    // each, then count an idle window.
    const existing = allLifecycles.length;
    const phaseTenants = [
      ...new Set(
        Object.values(lifecycles)
          .flat()
          .map((s) => s.tenantId),
      ),
    ];
    await measureRssSteps(client, db, {
      metricsUrl: worker.url,
      taskQueue,
      type: TYPE,
      policy: POLICY,
      tenantOf: (i) => tenant('t', i),
      settleTenants: phaseTenants,
      from: existing,
      to: sizes.scale,
      steps: sizes.scaleSteps,
      atStart: memoryAtStart,
    });
    const sleeping = Math.max(existing, sizes.scale);
    progress(`Scale: counting Vault and database calls for ${sizes.idleSeconds} s of idle`);
    const before = await countCalls(admin, worker.url);
    await new Promise((r) => setTimeout(r, sizes.idleSeconds * 1000));
    const after = await countCalls(admin, worker.url);
    const perHour = (n: number): string => ((n / sizes.idleSeconds) * 3600).toFixed(0);
    const vaultIdle = after.vault - before.vault;
    const dbIdle = after.db - before.db;
    const scaleSize = { size: `${sleeping} sleeping lifecycles` };
    const dbBytes = await temporalDbBytes(stack);
    figure(
      'Temporal database size',
      `${mb(dbBytes)} (${((dbBytes - temporalDbEmpty) / sleeping / 1024).toFixed(1)} KB/secret)`,
      `${mb(temporalDbEmpty)} (empty dev server)`,
      scaleSize,
    );
    figure(
      'idle calls per hour (Vault, DB)',
      `${perHour(vaultIdle)}, ${perHour(dbIdle)}`,
      `${sleeping}, ${sleeping} (an hourly scan)`,
      {
        goal: '0, 0',
        size: `${vaultIdle} Vault and ${dbIdle} DB calls in ${sizes.idleSeconds} s × ${3600 / sizes.idleSeconds}; ${sleeping} sleeping`,
      },
    );
    process.stdout.write(
      `  the harness's watcher made ${watcher.queries} queries over the whole run, both paths\n`,
    );
  }
}

runWithSizes(main);
