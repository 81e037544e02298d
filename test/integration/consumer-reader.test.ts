import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createRotorReader,
  PermissionDeniedError,
  RotorReadError,
  RotorReadErrorCode,
  SecretNotFoundError,
  VaultUnavailableError,
} from '../../consumers';
import type { RotorReader } from '../../consumers';
import { createRotatingPool } from '../../consumers/examples/pg-pool';
import { freePort } from '../../devstack';
import { setUpPgTarget } from '../helpers/pg-target';
import type { PgTarget } from '../helpers/pg-target';
import { uniqueName } from '../helpers/stack';
import { bao, consumerToken, tokenWithPolicy, writeVersion } from '../helpers/vault-policy';

const planted = (): string => `PLANTED-${randomBytes(12).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the consumer library (consumers/), against OpenBao with a consumer token', () => {
  const tenant = uniqueName('lib');
  let token = '';
  const reader = (options: { cacheTtlMs?: number; token?: string } = {}): RotorReader =>
    createRotorReader({
      vaultAddr: inject('stack').vaultAddr,
      token: options.token ?? token,
      mount: inject('stack').kvMount,
      ...(options.cacheTtlMs === undefined ? {} : { cacheTtlMs: options.cacheTtlMs }),
    });
  beforeAll(async () => {
    token = await consumerToken(tenant);
  });

  it('reads the newest version as current, and the labelled previous one only during grace', async () => {
    const path = `rotor/${tenant}/orders-db`;
    await writeVersion(path, { value: 'pw-one', username: 'orders_a', rotor_rotation_id: 'r1' });
    await writeVersion(
      path,
      { value: 'pw-two', username: 'orders_b', rotor_rotation_id: 'r2' },
      { rotor_current_version: '2', rotor_previous_version: '1' },
    );
    const r = reader();
    expect(await r.readCurrent(tenant, 'orders-db')).toEqual({
      value: 'pw-two',
      username: 'orders_b',
      version: 2,
      fields: { value: 'pw-two', username: 'orders_b' },
    });
    expect(await r.readPrevious(tenant, 'orders-db')).toMatchObject({
      value: 'pw-one',
      username: 'orders_a',
      version: 1,
    });
    expect(await r.currentVersion(tenant, 'orders-db')).toBe(2);

    // Grace ends: Rotor destroys version 1 and drops the label.
    const { kvMount, vaultToken } = inject('stack');
    await bao('PUT', `${kvMount}/destroy/${path}`, vaultToken, { versions: [1] });
    expect(await r.readPrevious(tenant, 'orders-db')).toBeUndefined();
    await bao('POST', `${kvMount}/metadata/${path}`, vaultToken, {
      custom_metadata: { rotor_current_version: '2' },
    });
    expect(await r.readPrevious(tenant, 'orders-db')).toBeUndefined();
    expect((await r.readCurrent(tenant, 'orders-db', { fresh: true })).value).toBe('pw-two');
  });

  it('answers from its cache until the TTL passes; a fresh read and a zero TTL go to Vault', async () => {
    const path = `rotor/${tenant}/cached-key`;
    await writeVersion(path, { value: 'first' });
    const cached = reader({ cacheTtlMs: 500 });
    const uncached = reader({ cacheTtlMs: 0 });
    expect((await cached.readCurrent(tenant, 'cached-key')).value).toBe('first');
    expect((await uncached.readCurrent(tenant, 'cached-key')).value).toBe('first');

    await writeVersion(path, { value: 'second' });
    expect((await cached.readCurrent(tenant, 'cached-key')).value).toBe('first');
    expect((await uncached.readCurrent(tenant, 'cached-key')).value).toBe('second');
    await sleep(700);
    expect((await cached.readCurrent(tenant, 'cached-key')).value).toBe('second');

    await writeVersion(path, { value: 'third' });
    expect((await cached.readCurrent(tenant, 'cached-key')).value).toBe('second');
    expect((await cached.readCurrent(tenant, 'cached-key', { fresh: true })).value).toBe('third');
    // The fresh read refreshed the cache for everyone else too.
    expect((await cached.readCurrent(tenant, 'cached-key')).value).toBe('third');
  });

  describe('withFreshCredential', () => {
    const refused = () =>
      Object.assign(new Error('password authentication failed'), { code: '28P01' });

    it('re-reads after a refused login and waits out a promote that is still under way', async () => {
      const path = `rotor/${tenant}/single-role`;
      await writeVersion(path, { value: 'old', username: 'app' });
      const r = reader({ cacheTtlMs: 60_000 });
      expect((await r.readCurrent(tenant, 'single-role')).value).toBe('old');

      // ALTER ROLE has run: the target accepts only "new", and the promote lands 300 ms later.
      const accepted = 'new';
      const promote = sleep(300).then(() => writeVersion(path, { value: 'new', username: 'app' }));
      const tried: string[] = [];
      const retries: { attempt: number; version: number }[] = [];
      const result = await r.withFreshCredential(
        tenant,
        'single-role',
        (c) => {
          tried.push(c.value);
          return c.value === accepted
            ? Promise.resolve(`logged in with v${c.version}`)
            : Promise.reject(refused());
        },
        { onRetry: ({ attempt, version }) => retries.push({ attempt, version }) },
      );
      await promote;
      expect(result).toBe('logged in with v2');
      expect(tried[0]).toBe('old');
      expect(tried.at(-1)).toBe('new');
      expect(retries.length).toBeGreaterThanOrEqual(2);
      expect(retries.length).toBeLessThanOrEqual(3);
      // Later callers get the new value from the cache without another refusal.
      expect((await r.readCurrent(tenant, 'single-role')).version).toBe(2);
    });

    it('gives up after its bounded re-reads and rethrows the refusal when nothing new is promoted', async () => {
      const path = `rotor/${tenant}/never-promoted`;
      await writeVersion(path, { value: 'stale' });
      const r = reader();
      let calls = 0;
      const err = await r
        .withFreshCredential(tenant, 'never-promoted', () => {
          calls += 1;
          return Promise.reject(refused());
        })
        .catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('28P01');
      expect(calls).toBe(4);
    });

    it('rethrows any other error at once, without re-reading', async () => {
      await writeVersion(`rotor/${tenant}/other-error`, { value: 'fine' });
      const r = reader();
      let calls = 0;
      const err = await r
        .withFreshCredential(tenant, 'other-error', () => {
          calls += 1;
          return Promise.reject(
            Object.assign(new Error('relation does not exist'), { code: '42P01' }),
          );
        })
        .catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('42P01');
      expect(calls).toBe(1);
    });
  });

  it('names the tenant, secret, path and status in every error, and never a value or the token', async () => {
    const secretValue = planted();
    const otherValue = planted();
    const otherTenant = uniqueName('lib-other');
    const { kvMount, vaultToken } = inject('stack');
    await writeVersion(`rotor/${tenant}/planted`, { value: secretValue, username: 'u' });
    await writeVersion(`rotor-staging/${tenant}/planted`, { value: planted() });
    await writeVersion(`rotor/${otherTenant}/theirs`, { value: otherValue });
    await writeVersion(`rotor/${tenant}/no-value-field`, { password: otherValue });
    await writeVersion(`rotor/${tenant}/destroyed`, { value: planted() });
    await bao('PUT', `${kvMount}/destroy/rotor/${tenant}/destroyed`, vaultToken, { versions: [1] });
    const noPolicy = await tokenWithPolicy('path "nothing/*" { capabilities = ["read"] }');
    const deadVault = createRotorReader({
      vaultAddr: `http://127.0.0.1:${await freePort()}`,
      token,
      requestTimeoutMs: 2_000,
    });

    const cases: [
      string,
      () => Promise<unknown>,
      new (...args: never[]) => RotorReadError,
      string,
      number | undefined,
    ][] = [
      [
        'unknown secret',
        () => reader().readCurrent(tenant, 'nope'),
        SecretNotFoundError,
        `${kvMount}/data/rotor/${tenant}/nope`,
        404,
      ],
      [
        "another tenant's secret",
        () => reader().readCurrent(otherTenant, 'theirs'),
        PermissionDeniedError,
        `${kvMount}/data/rotor/${otherTenant}/theirs`,
        403,
      ],
      [
        'a token without the policy',
        () => reader({ token: noPolicy }).readCurrent(tenant, 'planted'),
        PermissionDeniedError,
        `${kvMount}/data/rotor/${tenant}/planted`,
        403,
      ],
      [
        'previous, without the policy',
        () => reader({ token: noPolicy }).readPrevious(tenant, 'planted'),
        PermissionDeniedError,
        `${kvMount}/metadata/rotor/${tenant}/planted`,
        403,
      ],
      [
        'a bad token',
        () => reader({ token: `s.${secretValue}` }).readCurrent(tenant, 'planted'),
        PermissionDeniedError,
        `${kvMount}/data/rotor/${tenant}/planted`,
        403,
      ],
      [
        'no value field',
        () => reader().readCurrent(tenant, 'no-value-field'),
        RotorReadError,
        `${kvMount}/data/rotor/${tenant}/no-value-field`,
        200,
      ],
      [
        'a destroyed latest version',
        () => reader().readCurrent(tenant, 'destroyed'),
        SecretNotFoundError,
        `${kvMount}/data/rotor/${tenant}/destroyed`,
        404,
      ],
      [
        'an unreachable Vault',
        () => deadVault.readCurrent(tenant, 'planted'),
        VaultUnavailableError,
        `secret/data/rotor/${tenant}/planted`,
        undefined,
      ],
    ];
    for (const [what, call, type, path, status] of cases) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(type);
      const e = err as RotorReadError;
      expect(e.message, what).toContain(`${e.tenant}/${e.secretName}`);
      expect(e.message, what).toContain(path);
      expect(e.path, what).toBe(path);
      expect(e.status, what).toBe(status);
      if (status !== undefined) expect(e.message, what).toContain(`HTTP ${status}`);
      for (const text of [e.message, String(e.stack), inspect(e), JSON.stringify(e)]) {
        expect(text, what).not.toContain(secretValue);
        expect(text, what).not.toContain(otherValue);
        expect(text, what).not.toContain(token);
        expect(text, what).not.toContain('PLANTED');
      }
    }

    const invalid = await reader()
      .readCurrent('../acme', 'x')
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(RotorReadError);
    expect((invalid as RotorReadError).code).toBe(RotorReadErrorCode.InvalidName);
  });

  describe('the pg.Pool example (consumers/examples/pg-pool.ts), against PostgreSQL', () => {
    let target: PgTarget;
    beforeAll(async () => {
      target = await setUpPgTarget();
    });
    afterAll(async () => target?.close());

    it('re-reads Vault when a login is refused with 28P01 and carries on with the rotated password', async () => {
      const [role = ''] = await target.createRoles('orders_app');
      const url = new URL(inject('stack').targetDatabaseUrl);
      const first = randomBytes(18).toString('base64url');
      const alter = (pw: string) =>
        target.superuser.query(
          `ALTER ROLE ${pg.escapeIdentifier(role)} PASSWORD ${pg.escapeLiteral(pw)}`,
        );
      await alter(first);
      const path = `rotor/${tenant}/orders-pg`;
      await writeVersion(path, { value: first, username: role });

      const retries: number[] = [];
      const db = createRotatingPool({
        reader: reader({ cacheTtlMs: 60_000 }),
        tenant,
        name: 'orders-pg',
        // A new connection per query, so every query logs in and meets the rotated password.
        pool: {
          host: url.hostname,
          port: Number(url.port),
          database: decodeURIComponent(url.pathname.slice(1)),
          max: 1,
          maxUses: 1,
        },
        onRetry: ({ version }) => retries.push(version),
      });
      try {
        expect((await db.query<{ u: string }>('select current_user as u')).rows[0]?.u).toBe(role);
        expect(retries).toEqual([]);

        // A single-role rotation: the password changes, then the promote writes version 2.
        const second = randomBytes(18).toString('base64url');
        await alter(second);
        await writeVersion(path, { value: second, username: role });
        expect((await db.query<{ u: string }>('select current_user as u')).rows[0]?.u).toBe(role);
        expect(retries).toEqual([2]);
        expect((await db.query('select 1')).rowCount).toBe(1);
        expect(retries).toEqual([2]);
      } finally {
        await db.end();
      }
    });
  });
});
