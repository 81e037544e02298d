import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretType, secretVaultPath } from '../../domain';
import { statusQuery } from '../../workflows';
import { startSecret } from '../helpers/lifecycle';
import { pollUntil } from '../helpers/poll';
import { setUpRedisTarget } from '../helpers/redis-target';
import type { RedisTarget } from '../helpers/redis-target';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const PAIRS = 10;
const ROTATIONS_EACH = 10;

describe('alternating Redis ACL users under load', () => {
  let rotor: TestRotor;
  let target: RedisTarget;

  beforeAll(async () => {
    rotor = await createTestRotor();
    target = await setUpRedisTarget(rotor);
    await rotor.startWorker();
  });
  afterAll(async () => {
    await rotor?.close();
    await target?.close();
  });

  /** AUTH as a consumer would; 'refused' on WRONGPASS, any other failure is a test failure. */
  const login = async (user: string, password: string): Promise<'ok' | 'refused'> => {
    const client = new Redis({
      host: target.host,
      port: target.port,
      lazyConnect: true,
      protocol: 2,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.call('AUTH', user, password);
      return 'ok';
    } catch (err) {
      if ((err as Error).message.startsWith('WRONGPASS')) return 'refused';
      throw err;
    } finally {
      client.disconnect();
    }
  };

  it(`${PAIRS * ROTATIONS_EACH} rotations while consumers read the newest version and log in, with zero failed logins`, async () => {
    const handles: Awaited<ReturnType<typeof startSecret>>[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const [a = '', b = ''] = await target.createUsers('load_a', 'load_b');
      handles.push(
        await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
          tenantId: uniqueName('redis-load'),
          name: 'app',
          type: SecretType.DatabasePassword,
          policy: {
            requiresApproval: false,
            graceSeconds: 2,
            schedule: { kind: 'interval', everySeconds: 1 },
            maxAttempts: 5,
          },
          target: {
            kind: 'redis_acl',
            connection: target.connection,
            strategy: 'alternating',
            users: [a, b],
          },
        }),
      );
    }
    const statuses = () =>
      Promise.all(
        handles.map((h) => rotor.client.workflow.getHandle(h.workflowId).query(statusQuery)),
      );
    await pollUntil('every secret to have its first version', statuses, (all) =>
      all.every((s) => s.currentVersion !== null),
    );
    const tally = { logins: 0, failedLogins: 0, emptyReads: 0 };
    let finished = false;
    // A consumer as `bao kv get` reads: the newest version of the consumer path, then AUTH.
    const consumers = handles.map(async (h) => {
      const path = secretVaultPath(h.workflowId.split('/')[1] ?? '', 'app');
      while (!finished) {
        const latest = await rotor.clients.vault.read(path);
        const { username, value } = latest?.data ?? {};
        if (typeof username !== 'string' || typeof value !== 'string') tally.emptyReads += 1;
        else {
          tally.logins += 1;
          if ((await login(username, value)) === 'refused') tally.failedLogins += 1;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    let completed = 0;
    try {
      await pollUntil(
        `${PAIRS} secrets to complete ${ROTATIONS_EACH} rotations each`,
        async () => {
          const all = await statuses();
          completed = all.reduce((sum, s) => sum + Math.max(0, s.rotationsCompleted - 1), 0);
          return all.map((s) => s.rotationsCompleted - 1);
        },
        (done) => done.every((n) => n >= ROTATIONS_EACH),
        { timeout: 600_000, interval: 1000 },
      );
    } finally {
      finished = true;
      await Promise.all(consumers);
      await Promise.all(handles.map((h) => h.terminate('load test over').catch(() => undefined)));
    }
    console.log(
      `redis alternating: ${completed} rotations, ${tally.logins} consumer logins, ${tally.failedLogins} failed, ${tally.emptyReads} empty reads`,
    );
    expect(completed).toBeGreaterThanOrEqual(PAIRS * ROTATIONS_EACH);
    expect(tally.logins).toBeGreaterThan(completed);
    expect(tally.failedLogins).toBe(0);
    expect(tally.emptyReads).toBe(0);
  }, 900_000);
});
