import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetRegistry, redisPasswordHash } from '../../activities';
import { ValidationError, validateCreateSecret } from '../../control';
import { SecretType } from '../../domain';
import type { RedisAclTarget } from '../../domain';
import { retireSignal, rotateNowSignal } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { redisAdmin, setUpRedisTarget } from '../helpers/redis-target';
import type { RedisTarget } from '../helpers/redis-target';
import { failOneRotation, startBrokenVerifyWorker } from '../helpers/broken-verify';
import type { BrokenVerify } from '../helpers/broken-verify';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const WRONGPASS = 'WRONGPASS';

describe('a database_password rotated into a real Redis ACL user', () => {
  let rotor: TestRotor;
  let target: RedisTarget;
  let broken: BrokenVerify;

  beforeAll(async () => {
    rotor = await createTestRotor();
    target = await setUpRedisTarget(rotor);
    await rotor.startWorker();
    broken = await startBrokenVerifyWorker(rotor, 'redis_acl');
  });
  afterAll(async () => {
    await rotor?.close();
    await target?.close();
  });

  const credential = async (path: string, version: number) => {
    const read = await rotor.clients.vault.read(path, version);
    return { username: String(read?.data.username), password: String(read?.data.value) };
  };
  const start = (
    spec:
      { strategy: 'single'; user: string } | { strategy: 'alternating'; users: [string, string] },
    queue = rotor.config.temporal.taskQueue,
  ) =>
    startSecret(rotor.client, queue, {
      tenantId: uniqueName('redis'),
      name: 'cache',
      type: SecretType.DatabasePassword,
      policy: { requiresApproval: false, graceSeconds: 2, maxAttempts: 1 },
      target: { kind: 'redis_acl', connection: target.connection, ...spec },
    });

  it('single strategy: the new password is added beside the old, both log in through grace, then only the new one is left', async () => {
    const [user = ''] = await target.createUsers('app_single');
    const handle = await start({ strategy: 'single', user });
    const first = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1,
    );
    const path = `rotor/${first.tenantId}/cache`;
    const v1 = await credential(path, 1);
    expect(v1.username).toBe(user);
    expect(await target.loginError(user, v1.password)).toBeNull();
    // Redis holds the SHA-256 of the value, which is all ACL SETUSER was sent.
    expect(await target.aclUser(user)).toEqual({
      on: true,
      passwords: [redisPasswordHash(v1.password)],
    });

    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'single strategy' });
    await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 2 && s.previousVersion === 1,
    );
    const v2 = await credential(path, 2);
    expect(await target.loginError(user, v2.password)).toBeNull();
    expect(await target.loginError(user, v1.password)).toBeNull();

    await waitForStatus(rotor.client, handle.workflowId, (s) => s.previousVersion === null);
    expect(await target.loginError(user, v1.password)).toBe(WRONGPASS);
    expect(await target.loginError(user, v2.password)).toBeNull();
    expect((await target.aclUser(user)).passwords).toEqual([redisPasswordHash(v2.password)]);
  });

  it('alternating strategy: the standby user takes the new password, the old user works through grace, then is switched off', async () => {
    const [a = '', b = ''] = await target.createUsers('app_a', 'app_b');
    const handle = await start({ strategy: 'alternating', users: [a, b] });
    const first = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1,
    );
    const path = `rotor/${first.tenantId}/cache`;
    const v1 = await credential(path, 1);
    expect(v1.username).toBe(a);

    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'alternate' });
    await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 2 && s.previousVersion === 1,
    );
    const v2 = await credential(path, 2);
    expect(v2.username).toBe(b);
    expect(await target.loginError(b, v2.password)).toBeNull();
    expect(await target.loginError(a, v1.password)).toBeNull();

    await waitForStatus(rotor.client, handle.workflowId, (s) => s.previousVersion === null);
    expect(await target.loginError(a, v1.password)).toBe(WRONGPASS);
    expect(await target.aclUser(a)).toEqual({ on: false, passwords: [] });
    expect(await target.loginError(b, v2.password)).toBeNull();

    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'alternate back' });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.currentVersion === 3);
    const v3 = await credential(path, 3);
    expect(v3.username).toBe(a);
    expect(await target.loginError(a, v3.password)).toBeNull();
    expect(await target.loginError(a, v1.password)).toBe(WRONGPASS);
  });

  it('compensates a failed verification: the new password is taken back and the old one keeps working', async () => {
    const [user = ''] = await target.createUsers('app_comp');
    const again = await start({ strategy: 'single', user }, broken.queue);
    const first = await waitForStatus(
      rotor.client,
      again.workflowId,
      (s) => s.currentVersion === 1,
    );
    const path = `rotor/${first.tenantId}/cache`;
    const v1 = await credential(path, 1);
    const failed = await failOneRotation(rotor, broken, again.workflowId);
    expect(failed.lastErrorType).toBe('VerificationFailed');
    expect(failed.currentVersion).toBe(1);
    const applied = broken.applied.at(-1) ?? '';
    expect(applied).not.toBe('');
    expect(await target.loginError(user, applied)).toBe(WRONGPASS);
    expect(await target.loginError(user, v1.password)).toBeNull();
    expect((await target.aclUser(user)).passwords).toEqual([redisPasswordHash(v1.password)]);
    const meta = await rotor.clients.vault.metadata(path);
    expect(meta.labels.current).toBe(1);
    expect(meta.labels.pending).toBeUndefined();
  });

  it('retiring switches every user off and drops its passwords', async () => {
    const [a = '', b = ''] = await target.createUsers('app_ra', 'app_rb');
    const handle = await start({ strategy: 'alternating', users: [a, b] });
    const first = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1,
    );
    const v1 = await credential(`rotor/${first.tenantId}/cache`, 1);
    expect(await target.loginError(a, v1.password)).toBeNull();
    await handle.signal(retireSignal, { requestedBy: 'test', reason: 'cache removed' });
    expect((await handle.result()).state).toBe('RETIRED');
    expect(await target.loginError(a, v1.password)).toBe(WRONGPASS);
    expect(await target.aclUser(a)).toEqual({ on: false, passwords: [] });
    expect(await target.aclUser(b)).toEqual({ on: false, passwords: [] });
  });

  it('refuses hostile user names at validation, and the driver refuses them before sending any command', async () => {
    const hostile = [
      'default',
      'on',
      'resetpass',
      'app on >pw allcommands',
      '>plaintext',
      '+@all',
      '~*',
      'nopass',
      'app\r\nACL SETUSER x on',
      'a'.repeat(65),
      '',
    ];
    for (const user of hostile) {
      let caught: unknown;
      try {
        validateCreateSecret(
          {
            tenantId: 'acme',
            name: 'cache',
            type: 'database_password',
            requestedBy: 'test',
            target: { kind: 'redis_acl', connection: 'cache', strategy: 'single', user },
          },
          { minRotationIntervalSeconds: 1, maxValueBytes: 1024 },
        );
      } catch (err) {
        caught = err;
      }
      expect(caught, user).toBeInstanceOf(ValidationError);
      expect((caught as ValidationError).issues.map((i) => i.field)).toContain('target.user');
    }
    // A target without a connection, or a Redis user on a PostgreSQL target, names the field.
    expect(() =>
      validateCreateSecret(
        {
          tenantId: 'acme',
          name: 'cache',
          type: 'database_password',
          requestedBy: 'test',
          target: { kind: 'redis_acl', strategy: 'single', user: 'app' },
        },
        { minRotationIntervalSeconds: 1, maxValueBytes: 1024 },
      ),
    ).toThrow(ValidationError);

    // Bypassing validation (as a bug elsewhere might), the driver still sends nothing.
    const sent: string[][] = [];
    const registry = createTargetRegistry({
      db: rotor.clients.db,
      connections: {
        postgres: () => Promise.reject(new Error('unused')),
        mariadb: () => Promise.reject(new Error('unused')),
        aws: () => Promise.reject(new Error('unused')),
        redis: () =>
          Promise.resolve({
            rotatorUser: 'rotor_rotator',
            withAdmin: (fn) =>
              fn({
                call: (...args: string[]) => {
                  sent.push(args);
                  return Promise.resolve(['flags', ['on'], 'passwords', []]);
                },
              }),
            login: () => Promise.resolve(),
          }),
      },
    });
    const step = { rotationId: 'r', secretId: 's', tenantId: 't', vaultPath: 'p' };
    for (const user of [...hostile, 'rotor_rotator']) {
      const spec: RedisAclTarget = {
        kind: 'redis_acl',
        connection: 'cache',
        strategy: 'single',
        user,
      };
      await expect(
        registry.redis_acl.apply(spec, { version: 1, value: 'irrelevant' }, step),
      ).rejects.toMatchObject({ type: 'ValidationFailed', nonRetryable: true });
      await expect(registry.redis_acl.retire(spec, step)).rejects.toMatchObject({
        type: 'ValidationFailed',
      });
    }
    expect(sent).toEqual([]);
    // The same fake takes a well-formed name, so the refusals above were about the names.
    await registry.redis_acl.apply(
      { kind: 'redis_acl', connection: 'cache', strategy: 'single', user: 'app' },
      { version: 1, value: 'irrelevant' },
      step,
    );
    expect(sent.map((c) => c.slice(0, 3).join(' '))).toEqual([
      'ACL GETUSER app',
      'ACL SETUSER app',
    ]);
    expect(sent[1]).toEqual(['ACL', 'SETUSER', 'app', 'on', `#${redisPasswordHash('irrelevant')}`]);

    // A well-formed user that does not exist is TargetNotFound, not a silent creation.
    await expect(
      rotor.clients.targets.redis_acl.apply(
        {
          kind: 'redis_acl',
          connection: target.connection,
          strategy: 'single',
          user: `missing_${randomUUID().slice(0, 8)}`,
        },
        { version: 1, value: 'irrelevant' },
        step,
      ),
    ).rejects.toMatchObject({ type: 'TargetNotFound' });
    // And an unknown connection says so.
    await expect(
      rotor.clients.targets.redis_acl.apply(
        { kind: 'redis_acl', connection: 'no-such-connection', strategy: 'single', user: 'app' },
        { version: 1, value: 'irrelevant' },
        step,
      ),
    ).rejects.toMatchObject({ type: 'TargetNotFound' });
  });

  it('no plaintext password appears in MONITOR output during a rotation (and the capture sees the rotation)', async () => {
    const [user = ''] = await target.createUsers('app_monitor');
    const monitorClient: Redis = redisAdmin();
    const monitor = await monitorClient.monitor();
    const lines: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => lines.push(args.join(' ')));
    try {
      const handle = await start({ strategy: 'single', user });
      const first = await waitForStatus(
        rotor.client,
        handle.workflowId,
        (s) => s.currentVersion === 1,
      );
      await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'monitored' });
      await waitForStatus(rotor.client, handle.workflowId, (s) => s.previousVersion === null);
      const path = `rotor/${first.tenantId}/cache`;
      const values = [(await credential(path, 1)).password, (await credential(path, 2)).password];
      // Positive control: a value sent in a plain command does show up in this capture.
      const planted = `planted-${randomUUID()}`;
      await target.admin.call('SET', `app:control-${randomUUID()}`, planted);
      await new Promise((r) => setTimeout(r, 300));
      const seen = lines.join('\n');
      expect(seen).toContain(planted);
      // The rotation's logins (verify, twice) were captured, their arguments redacted by Redis.
      expect(lines.filter((l) => l.startsWith('AUTH')).length).toBeGreaterThanOrEqual(2);
      for (const value of values) {
        expect(value.length).toBeGreaterThan(8);
        expect(seen).not.toContain(value);
      }
    } finally {
      monitorClient.disconnect();
    }
  });
});
