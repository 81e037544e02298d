import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../api/auth/tokens';
import { Role } from '../../domain';
import { REPO_ROOT } from '../../devstack/paths';
import { startApiProcess } from '../helpers/api-process';
import type { ApiProcess } from '../helpers/api-process';
import { createMigratedDatabase } from '../helpers/fresh-db';
import type { MigratedDatabase } from '../helpers/fresh-db';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

/**
 * Cases per API operation and phase. Enough to reach every field's edges (the coverage phase
 * alone tries each boundary; it, not this number, makes most of the ~7,000 cases across the three
 * tokens), small enough to finish in about three minutes on 2 cores. Raise it with ROTOR_FUZZ_MAX_EXAMPLES for a longer
 * hunt; ROTOR_FUZZ_SEED replays a given run.
 */
const MAX_EXAMPLES = process.env.ROTOR_FUZZ_MAX_EXAMPLES ?? '15';
/** The least the run must try, across admin, tenant and security tokens. */
const MIN_CASES = 5_000;
const SEED = process.env.ROTOR_FUZZ_SEED ?? '7';
/** No 5xx, every status code documented for its operation, every body matching its schema. */
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'response_schema_conformance'];

interface Fuzz {
  code: number;
  output: string;
  /** Test cases (HTTP requests) schemathesis generated and checked. */
  cases: number;
  serverErrors: number;
  /** Per check: how many responses it judged, and how many of them failed it. */
  checks: Record<string, { checked: number; failed: number }>;
}

function ensureSchemathesis(): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('bash', ['scripts/ensure-schemathesis.sh'], { cwd: REPO_ROOT }, (err, out, errOut) =>
      err
        ? reject(new Error(`scripts/ensure-schemathesis.sh failed:\n${errOut}`))
        : resolve(out.trim().split('\n').pop() ?? ''),
    ),
  );
}

/** One schemathesis run over the served OpenAPI document, with CHECKS on every response. */
async function fuzz(python: string, api: string, token: string, filter: string[]): Promise<Fuzz> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'rotor-fuzz-'));
  const report = path.join(work, 'events.ndjson');
  try {
    const args = [
      '-m',
      'schemathesis.cli',
      'run',
      `${api}/openapi.json`,
      '--checks',
      CHECKS.join(','),
      '--header',
      `Authorization: Bearer ${token}`,
      '--max-examples',
      MAX_EXAMPLES,
      '--seed',
      SEED,
      '--phases',
      'examples,coverage,fuzzing',
      // One worker: CPython 3.11's compiler can fail ("AST constructor recursion depth
      // mismatch") when schemathesis builds strategies in several threads at once.
      '--workers',
      '1',
      '--request-timeout',
      '30',
      '--generation-database',
      'none',
      '--continue-on-failure',
      '--no-color',
      '--report',
      'ndjson',
      '--report-ndjson-path',
      report,
      ...filter,
    ];
    const started = Date.now();
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      const child = spawn(python, args, { cwd: work, env: { PATH: process.env.PATH } });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.on('close', (c) => resolve({ code: c ?? 1, output: out }));
    });
    const events = (await readFile(report, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    process.stdout.write(`schemathesis run took ${Math.round((Date.now() - started) / 1000)} s\n`);
    return { code, output, ...countCases(events) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

interface Recorder {
  interactions?: Record<string, { response?: { status_code?: number } }>;
  checks?: Record<string, { name?: string; status?: string }[]>;
}

function countCases(events: Record<string, unknown>[]): Omit<Fuzz, 'code' | 'output'> {
  let cases = 0;
  let serverErrors = 0;
  const checks: Fuzz['checks'] = Object.fromEntries(
    CHECKS.map((name) => [name, { checked: 0, failed: 0 }]),
  );
  for (const event of events) {
    const finished = event.ScenarioFinished as { recorder?: Recorder } | undefined;
    for (const interaction of Object.values(finished?.recorder?.interactions ?? {})) {
      cases += 1;
      if ((interaction.response?.status_code ?? 0) >= 500) serverErrors += 1;
    }
    for (const results of Object.values(finished?.recorder?.checks ?? {})) {
      for (const { name = '', status } of results) {
        const count = (checks[name] ??= { checked: 0, failed: 0 });
        count.checked += 1;
        if (status === 'failure') count.failed += 1;
      }
    }
  }
  return { cases, serverErrors, checks };
}

describe('an OpenAPI-driven fuzz run (schemathesis) against the API on a real port', () => {
  let rotor: TestRotor;
  let api: ApiProcess;
  let fresh: MigratedDatabase;
  let python = '';
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    python = await ensureSchemathesis();
    // A database of its own: schemathesis learns names from responses and reuses them, so an
    // admin fuzzing the shared database would rotate, retire or bulk-rotate other files' secrets.
    // The API reaches workflows only through rows in its database, so this keeps it to its own.
    fresh = await createMigratedDatabase();
    rotor = await createTestRotor(testConfig({ DATABASE_URL: fresh.url }));
    await rotor.startWorker();
    const db = rotor.clients.db;
    const fuzzTenant = uniqueName('fuzz');
    await db.insertInto('tenants').values({ id: fuzzTenant, name: fuzzTenant }).execute();
    const mint = async (name: string, role: Role, tenantId?: string) =>
      (await createToken(db, { name, role, tenantId: tenantId ?? null })).token;
    tokens.admin = await mint('fuzz-admin', Role.Admin);
    tokens.tenant = await mint('fuzz-tenant', Role.Tenant, fuzzTenant);
    tokens.security = await mint('fuzz-security', Role.Security);
    api = await startApiProcess({
      LOG_LEVEL: 'error',
      DATABASE_URL: fresh.url,
      TEMPORAL_TASK_QUEUE: rotor.config.temporal.taskQueue,
    });
  });
  afterAll(async () => {
    await api?.stop();
    await rotor?.close();
    await fresh?.drop();
  });

  it('answers every generated request without a 5xx, with a documented status and body', async () => {
    // Admin reaches every route past its role check, the tenant the tenant-scoped branches,
    // security its own reads, the approval routes' logic and everyone else's 403s.
    const runs = {
      admin: await fuzz(python, api.url, tokens.admin ?? '', []),
      tenant: await fuzz(python, api.url, tokens.tenant ?? '', []),
      security: await fuzz(python, api.url, tokens.security ?? '', []),
    };
    const all = Object.values(runs);
    const cases = all.reduce((n, r) => n + r.cases, 0);
    const serverErrors = all.reduce((n, r) => n + r.serverErrors, 0);
    const per = Object.entries(runs)
      .map(([who, r]) => `${r.cases} as ${who}`)
      .join(', ');
    const checks = Object.fromEntries(
      CHECKS.map((name) => [
        name,
        all.reduce(
          (n, r) => ({
            checked: n.checked + (r.checks[name]?.checked ?? 0),
            failed: n.failed + (r.checks[name]?.failed ?? 0),
          }),
          { checked: 0, failed: 0 },
        ),
      ]),
    );
    process.stdout.write(
      `schemathesis: ${cases} test cases (${per}), ${serverErrors} answered 5xx; checks: ${JSON.stringify(checks)}\n`,
    );
    const detail = `${all.map((r) => r.output).join('\n')}\nAPI log:\n${api.output()}`;
    expect(serverErrors, detail).toBe(0);
    // Each check judged thousands of responses, and none failed.
    for (const name of CHECKS) {
      expect(checks[name]?.checked, name).toBeGreaterThan(MIN_CASES / 2);
      expect(checks[name]?.failed, `${name}\n${detail}`).toBe(0);
    }
    expect(cases).toBeGreaterThanOrEqual(MIN_CASES);
    expect(
      all.map((r) => r.code),
      detail,
    ).toEqual([0, 0, 0]);
    expect(runs.admin.cases).toBeGreaterThan(500);
    expect(runs.tenant.cases).toBeGreaterThan(500);
    expect(runs.security.cases).toBeGreaterThan(500);
  }, 600_000);
});
