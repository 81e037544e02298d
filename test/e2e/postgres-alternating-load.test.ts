import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupApiKey } from '../../api-keys';
import { createRotorReader } from '../../consumers';
import { SecretType, secretVaultPath } from '../../domain';
import type { Policy, TargetSpec } from '../../domain';
import { statusQuery } from '../../workflows';
import { startSecret } from '../helpers/lifecycle';
import { setUpPgTarget } from '../helpers/pg-target';
import type { PgTarget } from '../helpers/pg-target';
import { pollUntil } from '../helpers/poll';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const PAIRS = 20;
const ROTATIONS_EACH = 10;
const API_KEYS = 5;
const AUTH_FAILURES = new Set(['28P01', '28000']);

interface Tally {
  logins: number;
  failedLogins: number;
  /** Reads of the consumer path that returned nothing (an empty or destroyed newest version). */
  emptyReads: number;
}

/** Every failure below is a test failure; `use` throws its own error to be counted. */
type Use = (data: Record<string, unknown>) => Promise<'ok' | 'refused'>;

describe('what consumers read from the consumer path during rotations', () => {
  let target: PgTarget;
  let rotor: TestRotor;
  let login: { host: string; port: number; database: string };
  const failingQueue = `failing-${Math.random().toString(36).slice(2)}`;
  let failStep: 'apply' | 'verify' | null = null;

  beforeAll(async () => {
    target = await setUpPgTarget();
    rotor = await createTestRotor(testConfig({ ROTOR_TARGET_DATABASE_URL: target.rotatorUrl }));
    await rotor.startWorker();
    const real = rotor.clients.targets;
    // The real driver, made to fail at apply (before touching the role) or at verify (after
    // really setting the password) while `failStep` says so.
    await rotor.startWorker({
      taskQueue: failingQueue,
      deps: {
        targets: {
          ...real,
          postgres_role: {
            ...real.postgres_role,
            apply: async (spec, staged, step) => {
              if (failStep === 'apply')
                throw ApplicationFailure.nonRetryable('injected: apply', 'TargetRejected');
              await real.postgres_role.apply(spec, staged, step);
            },
            verify: async (spec, staged, step) => {
              await real.postgres_role.verify(spec, staged, step);
              if (failStep === 'verify')
                throw ApplicationFailure.nonRetryable('injected: verify', 'VerificationFailed');
            },
          },
        },
      },
    });
    const url = new URL(target.rotatorUrl);
    login = { host: url.hostname, port: Number(url.port), database: url.pathname.slice(1) };
  });
  afterAll(async () => {
    await rotor?.close();
    await target?.close();
  });

  const pgLogin: Use = async (data) => {
    const client = new pg.Client({
      ...login,
      user: String(data.username),
      password: String(data.value),
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      return 'ok';
    } catch (err) {
      if (AUTH_FAILURES.has((err as { code?: string }).code ?? '')) return 'refused';
      throw err;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  /**
   * A consumer as `bao kv get` or ESO reads: a plain KV v2 GET of the newest version of the
   * consumer path, no Rotor labels, no version parameter, then a login with what it got.
   */
  async function consume(path: string, use: Use, tally: Tally, done: () => boolean) {
    while (!done()) {
      const latest = await rotor.clients.vault.read(path);
      if (!latest || typeof latest.data.value !== 'string') tally.emptyReads += 1;
      else {
        tally.logins += 1;
        if ((await use(latest.data)) === 'refused') tally.failedLogins += 1;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function runFleet(
    secrets: { type: SecretType; target: TargetSpec; policy?: Partial<Policy>; queue?: string }[],
    rotationsEach: number,
    use: Use,
  ) {
    const handles = await Promise.all(
      secrets.map((s) =>
        startSecret(rotor.client, s.queue ?? rotor.config.temporal.taskQueue, {
          tenantId: uniqueName('load'),
          name: 'app',
          type: s.type,
          // Rotate every second; the previous credential stays valid for 2 s after each promotion.
          policy: {
            requiresApproval: false,
            graceSeconds: 2,
            schedule: { kind: 'interval', everySeconds: 1 },
            maxAttempts: 5,
            ...s.policy,
          },
          target: s.target,
        }),
      ),
    );
    const tally: Tally = { logins: 0, failedLogins: 0, emptyReads: 0 };
    let finished = false;
    // Each consumer starts once the first version exists: before that there is nothing to read.
    await pollUntil(
      'every secret to have its first version',
      () =>
        Promise.all(
          handles.map((h) => rotor.client.workflow.getHandle(h.workflowId).query(statusQuery)),
        ),
      (all) => all.every((s) => s.currentVersion !== null),
    );
    const consumers = handles.map((h) =>
      consume(secretVaultPath(h.workflowId.split('/')[1] ?? '', 'app'), use, tally, () => finished),
    );
    let completed = 0;
    let polls = 0;
    try {
      await pollUntil(
        `${secrets.length} secrets to complete ${rotationsEach} rotations each`,
        async () => {
          const statuses = await Promise.all(
            handles.map((h) => rotor.client.workflow.getHandle(h.workflowId).query(statusQuery)),
          );
          completed = statuses.reduce((sum, s) => sum + Math.max(0, s.rotationsCompleted - 1), 0);
          // A long job shows progress: one line every ten polls.
          if (++polls % 10 === 0) {
            console.log(
              `  load: ${completed}/${secrets.length * rotationsEach} rotations, ${tally.logins} logins, ${tally.failedLogins} failed`,
            );
          }
          return statuses.map((s) => s.rotationsCompleted - 1);
        },
        (done) => done.every((n) => n >= rotationsEach),
        { timeout: 600_000, interval: 1000 },
      );
    } finally {
      finished = true;
      await Promise.all(consumers);
      await Promise.all(handles.map((h) => h.terminate('load test over').catch(() => undefined)));
    }
    return { ...tally, rotations: completed };
  }

  it('alternating roles: 200 rotations while consumers read the newest version and log in, with zero failed logins', async () => {
    const secrets: { type: SecretType; target: TargetSpec }[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const [a = '', b = ''] = await target.createRoles('load_a', 'load_b');
      secrets.push({
        type: SecretType.DatabasePassword,
        target: { kind: 'postgres_role', strategy: 'alternating', roles: [a, b] },
      });
    }
    const result = await runFleet(secrets, ROTATIONS_EACH, pgLogin);
    console.log(
      `alternating: ${result.rotations} rotations, ${result.logins} consumer logins, ${result.failedLogins} failed, ${result.emptyReads} empty reads`,
    );
    expect(result.rotations).toBeGreaterThanOrEqual(PAIRS * ROTATIONS_EACH);
    expect(result.logins).toBeGreaterThan(result.rotations);
    expect(result.failedLogins).toBe(0);
    expect(result.emptyReads).toBe(0);
  }, 900_000);

  it('generated API keys: 50 rotations while consumers read the newest version and verify it, with zero refusals', async () => {
    const pepper = rotor.config.targets.apiKeyPepper ?? '';
    const verifies: Use = async (data) =>
      (await lookupApiKey(rotor.clients.db, pepper, String(data.value))) ? 'ok' : 'refused';
    const secrets = Array.from({ length: API_KEYS }, () => ({
      type: SecretType.ApiKey,
      target: { kind: 'tenant_api_key' } as const,
    }));
    const result = await runFleet(secrets, 50 / API_KEYS, verifies);
    console.log(
      `api keys: ${result.rotations} rotations, ${result.logins} verifications, ${result.failedLogins} refused, ${result.emptyReads} empty reads`,
    );
    expect(result.rotations).toBeGreaterThanOrEqual(50);
    expect(result.failedLogins).toBe(0);
    expect(result.emptyReads).toBe(0);
  }, 900_000);

  it('alternating roles, rotations that fail at apply and at verify: the newest version stays the old, working credential throughout and afterwards', async () => {
    const [a = '', b = ''] = await target.createRoles('fail_a', 'fail_b');
    const handle = await startSecret(rotor.client, failingQueue, {
      tenantId: uniqueName('fails'),
      name: 'app',
      type: SecretType.DatabasePassword,
      policy: { requiresApproval: false, graceSeconds: 1, maxAttempts: 1 },
      target: { kind: 'postgres_role', strategy: 'alternating', roles: [a, b] },
    });
    const path = secretVaultPath(handle.workflowId.split('/')[1] ?? '', 'app');
    await pollUntil(
      'version 1',
      () => handle.query(statusQuery),
      (s) => s.currentVersion === 1,
    );
    const tally: Tally = { logins: 0, failedLogins: 0, emptyReads: 0 };
    let finished = false;
    const consumer = consume(path, pgLogin, tally, () => finished);
    const { resumeSignal, rotateNowSignal } = await import('../../workflows');
    try {
      for (const step of ['apply', 'verify'] as const) {
        failStep = step;
        await handle.signal(step === 'apply' ? rotateNowSignal : resumeSignal, {
          requestedBy: 'test',
          reason: `fail at ${step}`,
        });
        const errorType = step === 'apply' ? 'TargetRejected' : 'VerificationFailed';
        await pollUntil(
          `the rotation failing at ${step} to be undone`,
          () => handle.query(statusQuery),
          (s) =>
            s.state === 'NEEDS_ATTENTION' &&
            s.lastErrorType === errorType &&
            s.repair === null &&
            s.rotationId === null,
        );
      }
      failStep = null;
      // Afterwards too: the newest version is still version 1, and it still logs in.
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      finished = true;
      await consumer;
    }
    const latest = await rotor.clients.vault.read(path);
    expect(latest?.version).toBe(1);
    expect(await pgLogin(latest?.data ?? {})).toBe('ok');
    console.log(`failing rotations: ${tally.logins} consumer logins, ${tally.failedLogins} failed`);
    expect(tally.logins).toBeGreaterThan(0);
    expect(tally.failedLogins).toBe(0);
    expect(tally.emptyReads).toBe(0);
    await handle.terminate('test over');
  }, 300_000);

  it('single role: the client library re-reads past the short window after each promote, and no login fails after its re-read', async () => {
    const [role = ''] = await target.createRoles('window_single');
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId: uniqueName('window'),
      name: 'app',
      type: SecretType.DatabasePassword,
      policy: {
        requiresApproval: false,
        graceSeconds: 1,
        schedule: { kind: 'interval', everySeconds: 1 },
      },
      target: { kind: 'postgres_role', strategy: 'single', role },
    });
    const tenant = handle.workflowId.split('/')[1] ?? '';
    const reader = createRotorReader({
      vaultAddr: rotor.config.vault.addr,
      token: rotor.config.vault.token,
      mount: rotor.config.vault.kvMount,
      cacheTtlMs: 0,
    });
    await pollUntil(
      'version 1',
      () => handle.query(statusQuery),
      (s) => s.currentVersion === 1,
    );
    let logins = 0;
    let firstTryRefused = 0;
    let failed = 0;
    const windows: number[] = [];
    const deadline = Date.now() + 600_000;
    let rotations = 0;
    while (rotations < 30 && Date.now() < deadline) {
      let refusedAt: number | null = null;
      try {
        await reader.withFreshCredential(
          tenant,
          'app',
          async (c) => {
            const outcome = await pgLogin({ username: c.username, value: c.value });
            if (outcome === 'refused') {
              refusedAt ??= performance.now();
              throw Object.assign(new Error('refused'), { code: '28P01' });
            }
          },
          { retryDelaysMs: [50, 100, 200, 400, 800] },
        );
        if (refusedAt !== null) {
          firstTryRefused += 1;
          windows.push(performance.now() - refusedAt);
        }
      } catch {
        failed += 1;
      }
      logins += 1;
      rotations = (await handle.query(statusQuery)).rotationsCompleted - 1;
    }
    await handle.terminate('test over');
    const sorted = [...windows].sort((a, b) => a - b);
    console.log(
      `single role: ${rotations} rotations, ${logins} logins, ${firstTryRefused} refused at first try, ${failed} failed after re-reads; window p50 ${Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0)} ms, max ${Math.round(sorted.at(-1) ?? 0)} ms`,
    );
    expect(rotations).toBeGreaterThanOrEqual(30);
    expect(failed).toBe(0);
  }, 900_000);
});
