import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateValue } from '../../activities/generate/generators';
import type { StagedCredential, TargetDriver, TargetStep } from '../../activities/targets/driver';
import { createMariaDbUserDriver, nativePasswordHash } from '../../activities/targets/mariadb-user';
import type { MariaDbUserTarget } from '../../activities/targets/mariadb-user';
import { SecretType } from '../../domain';
import { mariaDbTarget, stopMariaDbTarget } from '../helpers/mariadb';
import type { MariaDbTarget } from '../helpers/mariadb';

/** What the server answers a refused login: a wrong password, and a locked account. */
const ACCESS_DENIED = '1045';
const ACCOUNT_LOCKED = '4151';

const step = (): TargetStep => ({
  rotationId: randomUUID(),
  secretId: randomUUID(),
  tenantId: 'acme',
  vaultPath: 'tenants/acme/secrets/db',
});

describe('MariaDB users as a rotation target (driver against a real MariaDB)', () => {
  let target: MariaDbTarget;
  let driver: TargetDriver<MariaDbUserTarget>;
  /** Every password a rotation below generated, for the plaintext hunt at the end. */
  const generated: string[] = [];

  const stage = (
    spec: MariaDbUserTarget,
    current: StagedCredential | null,
    version: number,
  ): StagedCredential => {
    const value = generateValue(SecretType.DatabasePassword);
    generated.push(value);
    return { version, value, username: driver.stageFields(spec, current).fields.username };
  };

  const singleUser = async (
    stem: string,
  ): Promise<{ app: { name: string; password: string }; spec: MariaDbUserTarget }> => {
    const [app] = await target.createUsers(stem);
    if (!app) throw new Error('no user');
    return {
      app,
      spec: { kind: 'mariadb_user', connection: 'direct', strategy: 'single', user: app.name },
    };
  };
  const userPair = async (
    stemA: string,
    stemB: string,
  ): Promise<{
    a: { name: string; password: string };
    b: { name: string; password: string };
    spec: MariaDbUserTarget;
  }> => {
    const [a, b] = await target.createUsers(stemA, stemB);
    if (!a || !b) throw new Error('no users');
    return {
      a,
      b,
      spec: {
        kind: 'mariadb_user',
        connection: 'direct',
        strategy: 'alternating',
        users: [a.name, b.name],
      },
    };
  };
  /** A failed verification: the server holds the staged password, the login uses another. */
  const verifyWithAnotherPassword = (
    spec: MariaDbUserTarget,
    staged: StagedCredential,
  ): Promise<void> =>
    driver.verify(spec, { ...staged, value: generateValue(SecretType.DatabasePassword) }, step());

  beforeAll(async () => {
    target = await mariaDbTarget();
    driver = createMariaDbUserDriver(target.deps);
  });
  afterAll(stopMariaDbTarget);

  describe('single user', () => {
    it('sets the new password, which logs in, and the old one is refused from then on', async () => {
      const { app, spec } = await singleUser('app');
      const current = { version: 1, value: app.password, username: app.name };
      const staged = stage(spec, current, 2);
      expect(staged.username).toBe(app.name);
      expect(driver.oldStopsAtApply(spec)).toBe(true);

      await driver.apply(spec, staged, step());
      await driver.verify(spec, staged, step());

      expect(await target.loginError(app.name, staged.value)).toBeNull();
      expect(await target.loginError(app.name, app.password)).toBe(ACCESS_DENIED);
      // Revoke is a no-op for one user: the new password keeps working.
      await driver.revoke(spec, { version: 1 }, staged, step());
      expect(await target.loginError(app.name, staged.value)).toBeNull();
    });

    it('applying the same staged password twice (a retried step) leaves it working', async () => {
      const { app, spec } = await singleUser('retried');
      const staged = stage(spec, null, 2);
      await driver.apply(spec, staged, step());
      await driver.apply(spec, staged, step());
      await driver.verify(spec, staged, step());
      expect(await target.loginError(app.name, staged.value)).toBeNull();
    });

    it('a failed verify is compensated: the old password logs in again and the staged one is refused', async () => {
      const { app, spec } = await singleUser('comp');
      const current = { version: 1, value: app.password, username: app.name };
      const staged = stage(spec, current, 2);
      await driver.apply(spec, staged, step());

      await expect(verifyWithAnotherPassword(spec, staged)).rejects.toMatchObject({
        type: 'VerificationFailed',
      });
      await driver.compensate(spec, staged, current, step());

      expect(await target.loginError(app.name, app.password)).toBeNull();
      expect(await target.loginError(app.name, staged.value)).toBe(ACCESS_DENIED);
    });

    it('retire locks the user', async () => {
      const { app, spec } = await singleUser('retired');
      await driver.retire(spec, step());
      expect(await target.loginError(app.name, app.password)).toBe(ACCOUNT_LOCKED);
      // Retiring twice (a retried activity) is harmless.
      await driver.retire(spec, step());
    });

    it('a user that does not exist is a non-retryable TargetNotFound, and retiring it succeeds', async () => {
      const spec: MariaDbUserTarget = {
        kind: 'mariadb_user',
        connection: 'direct',
        strategy: 'single',
        user: `ghost_${randomUUID().slice(0, 8)}`,
      };
      await expect(driver.apply(spec, stage(spec, null, 1), step())).rejects.toMatchObject({
        type: 'TargetNotFound',
        nonRetryable: true,
      });
      await driver.retire(spec, step());
    });

    it('a rotator without CREATE USER is told the privilege it lacks, and nothing is applied', async () => {
      const [app] = await target.createUsers('unpriv');
      if (!app) throw new Error('no user');
      const weak = createMariaDbUserDriver({
        admin: await target.createRotator([]),
        login: target.deps.login,
      });
      const spec: MariaDbUserTarget = {
        kind: 'mariadb_user',
        connection: 'direct',
        strategy: 'single',
        user: app.name,
      };
      const staged = stage(spec, null, 2);
      const failure = await weak.apply(spec, staged, step()).catch((err: unknown) => err);
      expect(failure).toMatchObject({ type: 'TargetRejected', nonRetryable: true });
      expect((failure as Error).message).toContain('CREATE USER');
      expect(await target.loginError(app.name, app.password)).toBeNull();
      expect(await target.loginError(app.name, staged.value)).toBe(ACCESS_DENIED);
    });
  });

  describe('alternating users', () => {
    it('rotates turn by turn: the standby takes the new password, the previous works through grace, revoke locks it', async () => {
      const { a, b, spec } = await userPair('alt_a', 'alt_b');
      expect(driver.oldStopsAtApply(spec)).toBe(false);
      // b starts locked, as a standby user would be after an earlier revoke.
      await target.admin.query(`ALTER USER '${b.name}'@'%' ACCOUNT LOCK`);
      let current: StagedCredential = { version: 1, value: a.password, username: a.name };

      for (const [version, expected, previous] of [
        [2, b.name, a.name],
        [3, a.name, b.name],
        [4, b.name, a.name],
      ] as const) {
        const staged = stage(spec, current, version);
        expect(staged.username).toBe(expected);
        await driver.apply(spec, staged, step());
        await driver.verify(spec, staged, step());
        // Grace: both the new and the previous credential log in.
        expect(await target.loginError(expected, staged.value)).toBeNull();
        expect(await target.loginError(previous, current.value)).toBeNull();
        await driver.revoke(spec, { version: current.version }, staged, step());
        expect(await target.loginError(previous, current.value)).toBe(ACCOUNT_LOCKED);
        expect(await target.loginError(expected, staged.value)).toBeNull();
        current = staged;
      }
    });

    it('a failed verify locks the standby again and leaves the current user working', async () => {
      const { a, b, spec } = await userPair('altc_a', 'altc_b');
      const current = { version: 1, value: a.password, username: a.name };
      const staged = stage(spec, current, 2);
      await driver.apply(spec, staged, step());
      await expect(verifyWithAnotherPassword(spec, staged)).rejects.toMatchObject({
        type: 'VerificationFailed',
      });
      await driver.compensate(spec, staged, current, step());

      expect(await target.loginError(a.name, a.password)).toBeNull();
      expect(await target.loginError(b.name, staged.value)).toBe(ACCOUNT_LOCKED);
    });

    it('retire locks both users', async () => {
      const { a, b, spec } = await userPair('altr_a', 'altr_b');
      await driver.retire(spec, step());
      expect(await target.loginError(a.name, a.password)).toBe(ACCOUNT_LOCKED);
      expect(await target.loginError(b.name, b.password)).toBe(ACCOUNT_LOCKED);
    });
  });

  it('hostile user names and hosts are refused as ValidationFailed before any statement reaches the server', async () => {
    const marker = `hx${randomUUID().slice(0, 8)}`;
    const users = [
      `${marker}'; DROP USER root; --`,
      `${marker}\``,
      `${marker}%`,
      `${marker}\0`,
      `${marker}\\`,
      `${marker} x`,
      `${marker}${'a'.repeat(80)}`,
      '',
    ];
    const hosts = [`${marker}' OR '1`, `${marker} x`, `${marker}\0`, `${marker}_`, 'h'.repeat(256)];
    const specs: MariaDbUserTarget[] = [
      ...users.map((user): MariaDbUserTarget => ({
        kind: 'mariadb_user',
        connection: 'direct',
        strategy: 'single',
        user,
      })),
      ...hosts.map((host): MariaDbUserTarget => ({
        kind: 'mariadb_user',
        connection: 'direct',
        strategy: 'single',
        user: `${marker}_ok`,
        host,
      })),
      // A good first user with a hostile second: the good one is not touched either.
      {
        kind: 'mariadb_user',
        connection: 'direct',
        strategy: 'alternating',
        users: [`${marker}_first`, `${marker}'`],
      },
    ];
    const before = await target.log('general');
    for (const spec of specs) {
      const staged = { version: 2, value: 'never-sent', username: `${marker}_first` };
      for (const call of [
        () => Promise.resolve().then(() => driver.stageFields(spec, null)),
        () => driver.apply(spec, staged, step()),
        () => driver.verify(spec, staged, step()),
        () => driver.compensate(spec, staged, { ...staged, version: 1 }, step()),
        () => driver.revoke(spec, { version: 1 }, staged, step()),
        () => driver.retire(spec, step()),
      ]) {
        const failure = await call().catch((err: unknown) => err);
        expect(failure).toMatchObject({ type: 'ValidationFailed', nonRetryable: true });
        // The message names the field and never echoes the hostile value.
        expect((failure as Error).message).not.toContain(marker);
      }
    }
    const after = await target.log('general');
    expect(after).toBe(before);
    expect(after).not.toContain(marker);
  });

  it('no generated password appears in the general, slow or error log (the plaintext hunt)', async () => {
    expect(generated.length).toBeGreaterThanOrEqual(8);
    const [general, slow, error] = await Promise.all([
      target.log('general'),
      target.log('slow'),
      target.log('error'),
    ]);
    // The logs really record the rotations: each ALTER USER is there, with the hash alone.
    const applied = generated.filter((value) => general.includes(nativePasswordHash(value)));
    expect(applied.length).toBeGreaterThanOrEqual(8);
    expect(general).toMatch(/ALTER USER '[^']+'@'%' IDENTIFIED WITH mysql_native_password AS '\*/);
    expect(slow).toMatch(/ALTER USER '[^']+'@'%' IDENTIFIED WITH mysql_native_password AS '\*/);
    expect(error).toContain('ready for connections');
    for (const value of generated) {
      expect(general).not.toContain(value);
      expect(slow).not.toContain(value);
      expect(error).not.toContain(value);
    }
  });

  it('the hunt can fail: MariaDB writes a plaintext IDENTIFIED BY to its general log as sent', async () => {
    // Why the driver sends hashes: this server does not rewrite passwords in its logs.
    const [canaryUser] = await target.createUsers('canary');
    if (!canaryUser) throw new Error('no user');
    const canary = `canary${randomUUID().replaceAll('-', '')}`;
    await target.admin.query(`ALTER USER '${canaryUser.name}'@'%' IDENTIFIED BY '${canary}'`);
    expect(await target.log('general')).toContain(canary);
    expect(await target.log('slow')).toContain(canary);
  });

  // Last: it stops this file's server.
  it('a target server that is down is a retryable TargetRejected, never a validation failure', async () => {
    const [app] = await target.createUsers('down');
    if (!app) throw new Error('no user');
    const spec: MariaDbUserTarget = {
      kind: 'mariadb_user',
      connection: 'direct',
      strategy: 'single',
      user: app.name,
    };
    const staged = stage(spec, null, 2);
    await target.server.stop();
    for (const call of [
      () => driver.apply(spec, staged, step()),
      () => driver.verify(spec, staged, step()),
      () => driver.retire(spec, step()),
    ]) {
      const failure = await call().catch((err: unknown) => err);
      expect(failure).toMatchObject({ type: 'TargetRejected', nonRetryable: false });
    }
  });
});
