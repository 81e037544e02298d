import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretType, connectionCredentialPath } from '../../domain';
import type { MariaDbUserTarget } from '../../domain';
import { rotateNowSignal } from '../../workflows';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { mariaDbTarget, stopMariaDbTarget } from '../helpers/mariadb';
import type { MariaDbTarget } from '../helpers/mariadb';
import { failOneRotation, startBrokenVerifyWorker } from '../helpers/broken-verify';
import type { BrokenVerify } from '../helpers/broken-verify';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

/** MariaDB's refusal of a locked account (ER_ACCOUNT_LOCKED) and of a wrong password. */
const LOCKED = '4151';
const DENIED = '1045';

describe('a database_password rotated into a real MariaDB user, on a connection added through the API', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let target: MariaDbTarget;
  let connection: string;
  let rotatorPassword: string;
  let broken: BrokenVerify;

  beforeAll(async () => {
    target = await mariaDbTarget();
    rotor = await createTestRotor();
    await rotor.startWorker();
    broken = await startBrokenVerifyWorker(rotor, 'mariadb_user');
    api = await createTestApi(rotor);

    // As the README tells an operator: a rotator with exactly GRANT CREATE USER ON *.*.
    const rotator = await target.createRotatorLogin(['CREATE USER ON *.*']);
    rotatorPassword = rotator.password;
    connection = uniqueName('orders-mariadb');
    const added = await api.call(api.tokens.admin, 'PUT', `/api/v1/connections/${connection}`, {
      kind: 'mariadb',
      host: target.server.host,
      port: target.server.port,
      credential: rotator,
    });
    expect(added.statusCode, added.body).toBe(201);
  }, 180_000);
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
    await stopMariaDbTarget();
  });

  /** The newest version of the consumer path, as a plain KV read gives it to consumers. */
  const current = async (path: string) => {
    const read = await rotor.clients.vault.read(path);
    return { username: String(read?.data.username), password: String(read?.data.value) };
  };
  const version = async (path: string, v: number) => {
    const read = await rotor.clients.vault.read(path, v);
    return { username: String(read?.data.username), password: String(read?.data.value) };
  };

  it('keeps the rotator’s credential in Vault only, and the connection test passes', async () => {
    const stored = await rotor.clients.vault.read(connectionCredentialPath(connection));
    expect(stored?.data.password).toBe(rotatorPassword);
    const row = await rotor.clients.db
      .selectFrom('connections')
      .selectAll()
      .where('name', '=', connection)
      .executeTakeFirstOrThrow();
    expect(row.kind).toBe('mariadb');
    expect(JSON.stringify(row)).not.toContain(rotatorPassword);
    const tested = await api.call(
      api.tokens.admin,
      'POST',
      `/api/v1/connections/${connection}/test`,
    );
    expect(tested.statusCode, tested.body).toBe(200);
    expect(tested.json()).toMatchObject({ ok: true });
    expect(tested.body).not.toContain(rotatorPassword);
  });

  it('a connection test names the missing CREATE USER privilege, and a refused login', async () => {
    const weak = await target.createRotatorLogin([]);
    const weakName = uniqueName('weak-mariadb');
    const wrongName = uniqueName('wrong-mariadb');
    for (const [name, credential] of [
      [weakName, weak],
      [wrongName, { username: weak.username, password: `not-${weak.password}` }],
    ] as const) {
      const put = await api.call(api.tokens.admin, 'PUT', `/api/v1/connections/${name}`, {
        kind: 'mariadb',
        host: target.server.host,
        port: target.server.port,
        credential,
      });
      expect(put.statusCode, put.body).toBe(201);
    }
    const weakTest = await api.call(
      api.tokens.admin,
      'POST',
      `/api/v1/connections/${weakName}/test`,
    );
    expect(weakTest.json()).toMatchObject({ ok: false, missingPrivilege: 'CREATE USER' });
    const wrongTest = await api.call(
      api.tokens.admin,
      'POST',
      `/api/v1/connections/${wrongName}/test`,
    );
    const wrong = wrongTest.json<{ ok: boolean; checks: { check: string; ok: boolean }[] }>();
    expect(wrong.ok).toBe(false);
    expect(wrong.checks.map((c) => [c.check, c.ok])).toEqual([
      ['reach', true],
      ['login', false],
    ]);
    // A MariaDB connection takes no database, and a target must name its connection.
    const withDatabase = await api.call(
      api.tokens.admin,
      'PUT',
      `/api/v1/connections/${weakName}`,
      {
        kind: 'mariadb',
        host: target.server.host,
        port: target.server.port,
        database: 'orders',
      },
    );
    expect(withDatabase.statusCode).toBe(400);
    expect(withDatabase.body).toContain('database');
  });

  it('alternating: created and rotated through the API, consumers log in with what Vault holds as current, the old user is locked after grace, and no log holds a password', async () => {
    const [a, b] = await target.createUsers('orders_a', 'orders_b');
    const name = 'orders-db';
    const created = await api.call(api.tokens.operator, 'POST', '/api/v1/secrets', {
      tenantId: api.tenantA,
      name,
      type: 'database_password',
      policy: { requiresApproval: false, graceSeconds: 2 },
      target: {
        kind: 'mariadb_user',
        connection,
        strategy: 'alternating',
        users: [a?.name, b?.name],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const workflowId = `secret/${api.tenantA}/${name}`;
    await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 1);
    const path = `rotor/${api.tenantA}/${name}`;
    const v1 = await current(path);
    expect(v1.username).toBe(a?.name);
    expect(await target.loginError(v1.username, v1.password)).toBeNull();

    const rotate = await api.call(
      api.tokens.a,
      'POST',
      `/api/v1/secrets/${api.tenantA}/${name}/rotate`,
      { reason: 'e2e' },
    );
    expect(rotate.statusCode, rotate.body).toBe(202);
    await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 2);
    const v2 = await current(path);
    expect(v2.username).toBe(b?.name);
    expect(await target.loginError(v2.username, v2.password)).toBeNull();
    await waitForStatus(rotor.client, workflowId, (s) => s.previousVersion === null);
    expect(await target.loginError(v1.username, v1.password)).toBe(LOCKED);
    expect(await target.loginError(v2.username, v2.password)).toBeNull();

    // The general and slow logs saw the rotation's statements, hashed; no log has a password.
    const general = await target.log('general');
    expect(general).toContain(`ALTER USER '${b?.name}'@'%' IDENTIFIED WITH mysql_native_password`);
    for (const which of ['general', 'slow', 'error'] as const) {
      const text = await target.log(which);
      for (const value of [v1.password, v2.password]) {
        expect(value.length).toBeGreaterThan(8);
        expect(text).not.toContain(value);
      }
    }
  });

  it('compensates a failed verification: the new password is taken back and the old one keeps working', async () => {
    const [app] = await target.createUsers('orders_single');
    const spec: MariaDbUserTarget = {
      kind: 'mariadb_user',
      connection,
      strategy: 'single',
      user: app?.name ?? '',
    };
    const handle = await startSecret(rotor.client, broken.queue, {
      tenantId: uniqueName('mariadb'),
      name: 'orders',
      type: SecretType.DatabasePassword,
      policy: { requiresApproval: false, graceSeconds: 2, maxAttempts: 1 },
      target: spec,
    });
    const first = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1,
    );
    const path = `rotor/${first.tenantId}/orders`;
    const v1 = await version(path, 1);
    expect(await target.loginError(spec.user, v1.password)).toBeNull();

    const failed = await failOneRotation(rotor, broken, handle.workflowId);
    expect(failed.lastErrorType).toBe('VerificationFailed');
    expect(failed.currentVersion).toBe(1);
    const applied = broken.applied.at(-1) ?? '';
    expect(applied).not.toBe('');
    expect(await target.loginError(spec.user, applied)).toBe(DENIED);
    expect(await target.loginError(spec.user, v1.password)).toBeNull();
    expect((await current(path)).password).toBe(v1.password);
  });

  it('with MariaDB unreachable (its connection pointed at a closed port), a rotation ends in NEEDS_ATTENTION with nothing applied and the old credential working', async () => {
    const [app] = await target.createUsers('orders_down');
    const user = app?.name ?? '';
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId: uniqueName('mariadb'),
      name: 'orders',
      type: SecretType.DatabasePassword,
      policy: { requiresApproval: false, graceSeconds: 2, maxAttempts: 1 },
      target: { kind: 'mariadb_user', connection, strategy: 'single', user },
    });
    const first = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1,
    );
    const path = `rotor/${first.tenantId}/orders`;
    const v1 = await version(path, 1);

    // A closed port where the server was: the connection now names a server that is down.
    const put = await api.call(api.tokens.admin, 'PUT', `/api/v1/connections/${connection}`, {
      kind: 'mariadb',
      host: target.server.host,
      port: 1,
    });
    expect(put.statusCode, put.body).toBe(200);
    try {
      await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'server down' });
      const stuck = await waitForStatus(
        rotor.client,
        handle.workflowId,
        (s) => s.state === 'NEEDS_ATTENTION',
        120_000,
      );
      expect(stuck.lastErrorType).toBe('TargetRejected');
      expect(stuck.currentVersion).toBe(1);
      expect((await current(path)).password).toBe(v1.password);
      expect(await target.loginError(user, v1.password)).toBeNull();
    } finally {
      await api.call(api.tokens.admin, 'PUT', `/api/v1/connections/${connection}`, {
        kind: 'mariadb',
        host: target.server.host,
        port: target.server.port,
      });
    }
  }, 180_000);
});
