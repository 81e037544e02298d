import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretType } from '../../domain';
import type { TargetSpec } from '../../domain';
import { statusQuery } from '../../workflows';
import { startSecret } from '../helpers/lifecycle';
import { setUpPgTarget } from '../helpers/pg-target';
import type { PgTarget } from '../helpers/pg-target';
import { pollUntil } from '../helpers/poll';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const PAIRS = 20;
const ROTATIONS_EACH = 10;
const AUTH_FAILURES = new Set(['28P01', '28000']);

interface Tally {
  logins: number;
  failedLogins: number;
}

describe('alternating-users rotation under load', () => {
  let target: PgTarget;
  let rotor: TestRotor;
  let login: { host: string; port: number; database: string };

  beforeAll(async () => {
    target = await setUpPgTarget();
    rotor = await createTestRotor(testConfig({ ROTOR_TARGET_DATABASE_URL: target.rotatorUrl }));
    await rotor.startWorker();
    const url = new URL(target.rotatorUrl);
    login = { host: url.hostname, port: Number(url.port), database: url.pathname.slice(1) };
  });
  afterAll(async () => {
    await rotor?.close();
    await target?.close();
  });

  /**
   * A well-behaved consumer: reads the current credential from Vault, logs in, queries, and on
   * an authentication failure re-reads Vault and tries again. Every failed login is counted.
   */
  async function consume(vaultPath: string, tally: Tally, done: () => boolean): Promise<void> {
    while (!done()) {
      const meta = await rotor.clients.vault.metadata(vaultPath);
      const read = meta.labels.current
        ? await rotor.clients.vault.read(vaultPath, meta.labels.current)
        : undefined;
      if (read) {
        const client = new pg.Client({
          ...login,
          user: String(read.data.username),
          password: String(read.data.value),
        });
        client.on('error', () => undefined);
        tally.logins += 1;
        try {
          await client.connect();
          await client.query('select 1');
        } catch (err) {
          const code = (err as { code?: string }).code ?? '';
          if (AUTH_FAILURES.has(code)) tally.failedLogins += 1;
          else throw err;
        } finally {
          await client.end().catch(() => undefined);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function runFleet(specs: TargetSpec[], rotationsEach: number) {
    const handles = await Promise.all(
      specs.map((spec) =>
        startSecret(rotor.client, rotor.config.temporal.taskQueue, {
          tenantId: uniqueName('load'),
          name: 'app-db',
          type: SecretType.DatabasePassword,
          // Rotate every second; the previous role stays valid for 2 s after each promotion.
          policy: {
            requiresApproval: false,
            graceSeconds: 2,
            schedule: { kind: 'interval', everySeconds: 1 },
            maxAttempts: 5,
          },
          target: spec,
        }),
      ),
    );
    const tally: Tally = { logins: 0, failedLogins: 0 };
    let finished = false;
    const consumers = handles.map((h) =>
      consume(`rotor/${h.workflowId.split('/')[1]}/app-db`, tally, () => finished),
    );
    let completed = 0;
    let polls = 0;
    try {
      await pollUntil(
        `${specs.length} secrets to complete ${rotationsEach} rotations each`,
        async () => {
          const statuses = await Promise.all(
            handles.map((h) => rotor.client.workflow.getHandle(h.workflowId).query(statusQuery)),
          );
          completed = statuses.reduce((sum, s) => sum + Math.max(0, s.rotationsCompleted - 1), 0);
          // A long job shows progress: one line every ten polls.
          if (++polls % 10 === 0) {
            console.log(
              `  load: ${completed}/${specs.length * rotationsEach} rotations, ${tally.logins} logins, ${tally.failedLogins} failed`,
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

  it('rotates about 200 times while consumers query continuously, with zero failed logins', async () => {
    const specs: TargetSpec[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const [a = '', b = ''] = await target.createRoles('load_a', 'load_b');
      specs.push({ kind: 'postgres_role', strategy: 'alternating', roles: [a, b] });
    }
    const result = await runFleet(specs, ROTATIONS_EACH);
    console.log(
      `alternating: ${result.rotations} rotations, ${result.logins} consumer logins, ${result.failedLogins} failed`,
    );
    expect(result.rotations).toBeGreaterThanOrEqual(PAIRS * ROTATIONS_EACH);
    expect(result.logins).toBeGreaterThan(result.rotations);
    expect(result.failedLogins).toBe(0);
  }, 900_000);
});
