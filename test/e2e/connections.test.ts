import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectionCredentialPath, SecretType } from '../../domain';
import { freePort, startPostgres } from '../../devstack';
import type { PostgresServer } from '../../devstack';
import { rotateNowSignal } from '../../workflows';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { runCli } from '../helpers/cli';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { setUpPgTarget } from '../helpers/pg-target';
import type { PgTarget } from '../helpers/pg-target';
import { redisAdmin, setUpRedisTarget } from '../helpers/redis-target';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

/** A rotator login and one managed role on a PostgreSQL server, as the README sets them up. */
async function provisionPg(adminUrl: string, role: string, withCreateRole = true) {
  const su = new pg.Client({ connectionString: adminUrl });
  await su.connect();
  const rotator = {
    username: `rotor_rotator_${randomUUID().slice(0, 8)}`,
    password: randomBytes(18).toString('hex'),
  };
  await su.query(
    `CREATE ROLE ${pg.escapeIdentifier(rotator.username)} LOGIN ${withCreateRole ? 'CREATEROLE' : ''} PASSWORD ${pg.escapeLiteral(rotator.password)}`,
  );
  await su.query(
    `CREATE ROLE ${pg.escapeIdentifier(role)} LOGIN PASSWORD ${pg.escapeLiteral(randomBytes(18).toString('hex'))}`,
  );
  if (withCreateRole) {
    await su.query(
      `GRANT ${pg.escapeIdentifier(role)} TO ${pg.escapeIdentifier(rotator.username)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
    );
  }
  await su.end();
  return rotator;
}

async function pgLoginError(url: string, user: string, password: string): Promise<string | null> {
  const u = new URL(url);
  const client = new pg.Client({
    host: u.hostname,
    port: Number(u.port),
    database: decodeURIComponent(u.pathname.slice(1)),
    user,
    password,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return null;
  } catch (err) {
    return (err as { code?: string }).code ?? 'unknown';
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('connections: target servers named by secrets, with Rotor’s credential in Vault', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let defaultTarget: PgTarget;
  let second: PostgresServer;
  let secondDir: string;
  let apiUrl: string;

  beforeAll(async () => {
    defaultTarget = await setUpPgTarget();
    rotor = await createTestRotor(
      testConfig({ ROTOR_TARGET_DATABASE_URL: defaultTarget.rotatorUrl }),
    );
    await rotor.startWorker();
    api = await createTestApi(rotor);
    apiUrl = await api.app.listen({ host: '127.0.0.1', port: 0 });
    // A second PostgreSQL server, for this file only (the run's shared servers stay one each).
    secondDir = await mkdtemp(path.join(os.tmpdir(), 'rotor-pg2-'));
    await chmod(secondDir, 0o711);
    second = await startPostgres({
      port: await freePort(),
      dataDir: path.join(secondDir, 'pg'),
      logFile: path.join(secondDir, 'postgres.log'),
      databases: ['targets'],
      fast: true,
    });
  }, 180_000);
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
    await defaultTarget?.close();
    await second?.stop();
    if (secondDir) await rm(secondDir, { recursive: true, force: true });
  });

  const put = (name: string, body: unknown) =>
    api.call(api.tokens.admin, 'PUT', `/api/v1/connections/${name}`, body);
  const redisEndpoint = () => {
    const u = new URL(inject('stack').redisAdminUrl);
    return { host: u.hostname, port: Number(u.port) };
  };

  it('keeps the credential in Vault only: not in the row, not in any answer', async () => {
    const name = uniqueName('cache');
    const password = `pw-${randomUUID()}`;
    const created = await put(name, {
      kind: 'redis',
      ...redisEndpoint(),
      credential: { username: 'rotor', password },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.body).not.toContain(password);
    expect(created.json()).toMatchObject({
      name,
      kind: 'redis',
      credentialPath: connectionCredentialPath(name),
    });
    const row = await rotor.clients.db
      .selectFrom('connections')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(password);
    const stored = await rotor.clients.vault.read(connectionCredentialPath(name));
    expect(stored?.data).toEqual({ username: 'rotor', password });
    // An update without a credential keeps the stored one.
    const updated = await put(name, {
      kind: 'redis',
      ...redisEndpoint(),
      tls: { mode: 'disable' },
    });
    expect(updated.statusCode, updated.body).toBe(200);
    expect((await rotor.clients.vault.read(connectionCredentialPath(name)))?.data.password).toBe(
      password,
    );
    const listed = await api.call(api.tokens.admin, 'GET', '/api/v1/connections');
    expect(listed.body).not.toContain(password);
    expect(
      listed.json<{ connections: { name: string; builtIn: boolean }[] }>().connections,
    ).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'default', builtIn: true }),
        expect.objectContaining({ name, builtIn: false }),
      ]),
    );
    const audit = await rotor.clients.db
      .selectFrom('audit_events')
      .select(['action', 'details'])
      .where('action', 'like', 'connection.%')
      .execute();
    expect(JSON.stringify(audit)).not.toContain(password);
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['connection.created', 'connection.updated']),
    );
  });

  it('refuses bad input with coded 4xx errors that name the field and never echo it', async () => {
    const secretish = `s3cret-${randomUUID()}`;
    const cases: [unknown, string][] = [
      [
        {
          kind: 'redis',
          host: `evil host ${secretish}`,
          port: 6379,
          credential: { username: 'a', password: 'b' },
        },
        'host',
      ],
      [
        {
          kind: 'redis',
          host: 'localhost',
          port: 70000,
          credential: { username: 'a', password: 'b' },
        },
        'port',
      ],
      [{ kind: 'mysql', host: 'localhost', port: 1 }, 'kind'],
      [
        {
          kind: 'redis',
          host: 'localhost',
          port: 6379,
          database: 'x',
          credential: { username: 'a', password: 'b' },
        },
        'database',
      ],
      [{ kind: 'redis', host: 'localhost', port: 6379 }, 'credential'],
    ];
    for (const [body, field] of cases) {
      const res = await put(uniqueName('bad'), body);
      expect(res.statusCode, res.body).toBe(400);
      const error = res.json<{ error: { code: string; issues: { field: string }[] } }>().error;
      expect(error.code).toBe('ROT_ERR_VALIDATION');
      expect(error.issues.map((i) => i.field).join(' ')).toContain(field);
      expect(res.body).not.toContain(secretish);
    }
    const reserved = await put('default', {
      kind: 'postgres',
      host: 'localhost',
      port: 5432,
      credential: { username: 'a', password: 'b' },
    });
    expect(reserved.statusCode).toBe(409);
    expect(reserved.json()).toMatchObject({ error: { code: 'ROT_ERR_CONNECTION_RESERVED' } });
    const tenant = await api.call(api.tokens.a, 'GET', '/api/v1/connections');
    expect(tenant.statusCode).toBe(403);
  });

  it('`rotor connections test` passes a well-set connection and names the missing privilege, the refused login, or the unreachable server', async () => {
    const admin = redisAdmin();
    const ok = { username: `rot_ok_${randomUUID().slice(0, 6)}`, password: randomUUID() };
    const weak = { username: `rot_weak_${randomUUID().slice(0, 6)}`, password: randomUUID() };
    await admin.call(
      'ACL',
      'SETUSER',
      ok.username,
      'on',
      `>${ok.password}`,
      '-@all',
      '+acl|setuser',
      '+acl|getuser',
    );
    await admin.call(
      'ACL',
      'SETUSER',
      weak.username,
      'on',
      `>${weak.password}`,
      '-@all',
      '+acl|getuser',
    );
    const aclOf = async () => [
      await admin.call('ACL', 'GETUSER', ok.username),
      await admin.call('ACL', 'GETUSER', weak.username),
    ];
    const before = await aclOf();
    try {
      const names = {
        ok: uniqueName('r-ok'),
        weak: uniqueName('r-weak'),
        wrong: uniqueName('r-wrong'),
        down: uniqueName('r-down'),
        pg: uniqueName('pg-weak'),
      };
      await put(names.ok, { kind: 'redis', ...redisEndpoint(), credential: ok });
      await put(names.weak, { kind: 'redis', ...redisEndpoint(), credential: weak });
      await put(names.wrong, {
        kind: 'redis',
        ...redisEndpoint(),
        credential: { ...ok, password: 'wrong' },
      });
      await put(names.down, {
        kind: 'redis',
        host: '127.0.0.1',
        port: await freePort(),
        credential: ok,
      });
      const pgWeak = await provisionPg(
        second.urlFor('targets'),
        `app_${randomUUID().slice(0, 6)}`,
        false,
      );
      const u = new URL(second.urlFor('targets'));
      await put(names.pg, {
        kind: 'postgres',
        host: u.hostname,
        port: Number(u.port),
        database: 'targets',
        credential: pgWeak,
      });

      const good = await runCli(apiUrl, api.tokens.admin, 'connections', 'test', names.ok);
      expect(good.code, good.stderr).toBe(0);
      expect(good.stdout).toContain('ok   privilege');

      const weakRun = await runCli(apiUrl, api.tokens.admin, 'connections', 'test', names.weak);
      expect(weakRun.code).toBe(1);
      expect(weakRun.stdout).toContain('missing privilege: +acl|setuser');

      const wrong = await runCli(
        apiUrl,
        api.tokens.admin,
        '--json',
        'connections',
        'test',
        names.wrong,
      );
      expect(wrong.code).toBe(1);
      expect(JSON.parse(wrong.stdout)).toMatchObject({
        ok: false,
        checks: [
          { check: 'reach', ok: true },
          { check: 'login', ok: false },
        ],
      });
      expect(wrong.stdout).not.toContain(ok.password);

      const down = await runCli(apiUrl, api.tokens.admin, 'connections', 'test', names.down);
      expect(down.code).toBe(1);
      expect(down.stdout).toMatch(/FAIL reach: could not reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);

      const pgRun = await runCli(apiUrl, api.tokens.admin, 'connections', 'test', names.pg);
      expect(pgRun.code).toBe(1);
      expect(pgRun.stdout).toContain('missing privilege: CREATEROLE');

      const dflt = await runCli(apiUrl, api.tokens.admin, 'connections', 'test', 'default');
      expect(dflt.code, dflt.stdout).toBe(0);
      // Testing changed nothing on the server.
      expect(await aclOf()).toEqual(before);
    } finally {
      await admin.call('ACL', 'DELUSER', ok.username, weak.username);
      admin.disconnect();
    }
  });

  it('rotates same-named roles on two PostgreSQL servers side by side, each on its own connection', async () => {
    const role = `app_${randomUUID().slice(0, 8)}`;
    const urlA = inject('stack').targetDatabaseUrl;
    const urlB = second.urlFor('targets');
    const credA = await provisionPg(urlA, role);
    const credB = await provisionPg(urlB, role);
    const conn = { a: uniqueName('pg-a'), b: uniqueName('pg-b') };
    for (const [name, url, cred] of [
      [conn.a, urlA, credA],
      [conn.b, urlB, credB],
    ] as const) {
      const u = new URL(url);
      const res = await put(name, {
        kind: 'postgres',
        host: u.hostname,
        port: Number(u.port),
        database: decodeURIComponent(u.pathname.slice(1)),
        credential: cred,
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const tenantId = uniqueName('two-servers');
    const handles = await Promise.all(
      (['a', 'b'] as const).map((k) =>
        startSecret(rotor.client, rotor.config.temporal.taskQueue, {
          tenantId,
          name: `db-${k}`,
          type: SecretType.DatabasePassword,
          policy: { requiresApproval: false, graceSeconds: 1, maxAttempts: 1 },
          target: { kind: 'postgres_role', strategy: 'single', role, connection: conn[k] },
        }),
      ),
    );
    await Promise.all(
      handles.map((h) => waitForStatus(rotor.client, h.workflowId, (s) => s.currentVersion === 1)),
    );
    await Promise.all(
      handles.map((h) =>
        h.signal(rotateNowSignal, { requestedBy: 'test', reason: 'side by side' }),
      ),
    );
    await Promise.all(
      handles.map((h) => waitForStatus(rotor.client, h.workflowId, (s) => s.currentVersion === 2)),
    );
    const value = async (k: 'a' | 'b') =>
      String((await rotor.clients.vault.read(`rotor/${tenantId}/db-${k}`, 2))?.data.value);
    const [pwA, pwB] = [await value('a'), await value('b')];
    expect(pwA).not.toBe(pwB);
    expect(await pgLoginError(urlA, role, pwA)).toBeNull();
    expect(await pgLoginError(urlB, role, pwB)).toBeNull();
    // Each server has its own role of that name, with its own password.
    expect(await pgLoginError(urlA, role, pwB)).toBe('28P01');
    expect(await pgLoginError(urlB, role, pwA)).toBe('28P01');
  });

  it('refuses at create a target naming a missing connection or one of another kind, and refuses deleting a connection a secret uses, saying how many', async () => {
    const redis = await setUpRedisTarget(rotor);
    try {
      const tenantId = api.tenantA;
      const create = (name: string, target: Record<string, unknown>) =>
        api.call(api.tokens.operator, 'POST', '/api/v1/secrets', {
          tenantId,
          name,
          type: 'database_password',
          policy: { requiresApproval: false, graceSeconds: 1 },
          target,
        });
      const refusals: [Record<string, unknown>, string][] = [
        [
          {
            kind: 'mariadb_user',
            connection: uniqueName('no-such'),
            strategy: 'single',
            user: 'app',
          },
          'names no connection',
        ],
        [
          { kind: 'mariadb_user', connection: redis.connection, strategy: 'single', user: 'app' },
          'names a redis connection; a mariadb_user target needs a mariadb connection',
        ],
        [
          { kind: 'postgres_role', connection: redis.connection, strategy: 'single', role: 'app' },
          'names a redis connection',
        ],
      ];
      for (const [target, message] of refusals) {
        const name = uniqueName('conn-check');
        const res = await create(name, target);
        expect(res.statusCode, res.body).toBe(400);
        const error = res.json<{ error: { code: string; issues: unknown[] } }>().error;
        expect(error.code).toBe('ROT_ERR_VALIDATION');
        expect(error.issues).toEqual([
          { field: 'target.connection', message: expect.stringContaining(message) as string },
        ]);
        // Refused before anything started: no lifecycle, no row.
        await expect(
          rotor.client.workflow.getHandle(`secret/${tenantId}/${name}`).describe(),
        ).rejects.toThrow();
      }

      // A secret on the connection: deleting the connection is refused, naming how many use it.
      const [user = ''] = await redis.createUsers('conn_in_use');
      const name = uniqueName('in-use');
      const created = await create(name, {
        kind: 'redis_acl',
        connection: redis.connection,
        strategy: 'single',
        user,
      });
      expect(created.statusCode, created.body).toBe(201);
      await waitForStatus(
        rotor.client,
        `secret/${tenantId}/${name}`,
        (s) => s.currentVersion === 1,
      );
      const del = () =>
        api.call(api.tokens.admin, 'DELETE', `/api/v1/connections/${redis.connection}`);
      const refused = await del();
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json()).toMatchObject({
        error: {
          code: 'ROT_ERR_CONNECTION_IN_USE',
          message: expect.stringContaining('1 secret(s)') as string,
        },
      });
      expect(
        (await rotor.clients.vault.read(connectionCredentialPath(redis.connection)))?.data,
      ).toMatchObject({ username: redis.rotator.username });

      // Retired, it no longer counts: the connection can go.
      const retired = await api.call(
        api.tokens.a,
        'POST',
        `/api/v1/secrets/${tenantId}/${name}/retire`,
        { reason: 'moving off this server' },
      );
      expect(retired.statusCode, retired.body).toBe(202);
      await expect
        .poll(
          async () =>
            (
              await rotor.clients.db
                .selectFrom('secrets')
                .select('state')
                .where('workflow_id', '=', `secret/${tenantId}/${name}`)
                .executeTakeFirst()
            )?.state,
          { timeout: 60_000 },
        )
        .toBe('RETIRED');
      const deleted = await del();
      expect(deleted.statusCode, deleted.body).toBe(200);
    } finally {
      await redis.close();
    }
  });
});
