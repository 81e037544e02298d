import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDigest } from '../../activities/notify/templates';
import type { TargetDriver } from '../../activities/targets/driver';
import { saveConnection } from '../../connections';
import { SecretType, secretStagingPath, secretVaultPath } from '../../domain';
import type { NotificationEvent, TargetSpec } from '../../domain';
import { resumeSignal, rotateNowSignal, statusQuery } from '../../workflows';
import type { SecretStatus } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { mariaDbTarget, stopMariaDbTarget } from '../helpers/mariadb';
import type { MariaDbTarget } from '../helpers/mariadb';
import { pollUntil } from '../helpers/poll';
import { setUpRedisTarget } from '../helpers/redis-target';
import type { RedisTarget } from '../helpers/redis-target';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';
import { startToggleProxy } from '../helpers/toggle-proxy';
import type { ToggleProxy } from '../helpers/toggle-proxy';

type Server = 'mariadb' | 'redis';
type Step = 'apply' | 'verify' | 'revoke';
type Strategy = 'single' | 'alternating';

/**
 * How a revoked credential is refused: MariaDB locks the previous user of a pair (4151) and a
 * single user's old password is simply wrong (1045); Redis says WRONGPASS for a password removed
 * and for a user switched off.
 */
const refused = (server: Server, strategy: Strategy): string =>
  server === 'redis' ? 'WRONGPASS' : strategy === 'alternating' ? '4151' : '1045';

/**
 * The Redis ACL and MariaDB targets with their server down at each step boundary of a rotation
 * (apply, verify, revoke at the end of grace) for longer than the retry budget, then back. Rotor
 * reaches each server through a proxy that the test cuts (every open connection dropped, new ones
 * refused), so the drivers see a real outage while the server itself stays up and the test can
 * still log in directly, as a consumer on the server's own network would. While it is down: the
 * lifecycle answers, waits in NEEDS_ATTENTION, the alert names the step, Vault's current credential
 * is unchanged and still logs in. Once it is back: Rotor puts itself right, a retry rotates, and
 * afterwards only Vault's current credential logs in.
 */
describe('Redis and MariaDB targets with their server down at each step, past the retry budget', () => {
  let rotor: TestRotor;
  let mariadb: MariaDbTarget;
  let redis: RedisTarget;
  const proxies = {} as Record<Server, ToggleProxy>;
  const connections = {} as Record<Server, string>;
  /** Set by a case: take this server down when its rotation reaches this step. */
  let armed: { server: Server; step: Step } | null = null;

  const reach = async (server: Server, step: Step): Promise<void> => {
    if (armed?.server !== server || armed.step !== step) return;
    armed = null;
    await proxies[server].down();
  };

  /** The real driver, except that reaching `server` at a step can first take it down (armed). */
  const gated = <S extends { kind: string }>(
    server: Server,
    driver: TargetDriver<S>,
  ): TargetDriver<S> => ({
    ...driver,
    apply: async (...args) => {
      await reach(server, 'apply');
      return driver.apply(...args);
    },
    verify: async (...args) => {
      await reach(server, 'verify');
      return driver.verify(...args);
    },
    revoke: async (...args) => {
      await reach(server, 'revoke');
      return driver.revoke(...args);
    },
  });

  beforeAll(async () => {
    mariadb = await mariaDbTarget();
    rotor = await createTestRotor();
    redis = await setUpRedisTarget(rotor);
    proxies.mariadb = await startToggleProxy({
      host: mariadb.server.host,
      port: mariadb.server.port,
    });
    proxies.redis = await startToggleProxy({ host: redis.host, port: redis.port });
    // Connections as an operator adds them, naming the proxy as the server's address.
    const credentials = {
      mariadb: await mariadb.createRotatorLogin(['CREATE USER ON *.*']),
      redis: redis.rotator,
    };
    for (const server of ['mariadb', 'redis'] as const) {
      connections[server] = uniqueName(`down-${server}`);
      await saveConnection(
        rotor.clients.db,
        rotor.clients.vault,
        {
          name: connections[server],
          kind: server,
          host: '127.0.0.1',
          port: proxies[server].port,
          database: null,
          tls: { mode: 'disable' },
        },
        credentials[server],
        'test',
      );
    }
    const real = rotor.clients.targets;
    await rotor.startWorker({
      deps: {
        targets: {
          ...real,
          mariadb_user: gated('mariadb', real.mariadb_user),
          redis_acl: gated('redis', real.redis_acl),
        },
      },
    });
  }, 180_000);
  afterAll(async () => {
    await rotor?.close();
    for (const proxy of Object.values(proxies)) await proxy.close();
    await redis?.close();
    await stopMariaDbTarget();
  });

  /** Logs in directly (not through the proxy), as a consumer would. */
  const loginError = (server: Server, user: string, password: string) =>
    server === 'mariadb' ? mariadb.loginError(user, password) : redis.loginError(user, password);

  const spec = async (server: Server, strategy: Strategy): Promise<TargetSpec> => {
    if (server === 'mariadb') {
      const users = await mariadb.createUsers('fm_a', 'fm_b');
      const [a = '', b = ''] = users.map((u) => u.name);
      return strategy === 'single'
        ? { kind: 'mariadb_user', connection: connections.mariadb, strategy, user: a }
        : { kind: 'mariadb_user', connection: connections.mariadb, strategy, users: [a, b] };
    }
    const [a = '', b = ''] = await redis.createUsers('fm_a', 'fm_b');
    return strategy === 'single'
      ? { kind: 'redis_acl', connection: connections.redis, strategy, user: a }
      : { kind: 'redis_acl', connection: connections.redis, strategy, users: [a, b] };
  };

  /** What the tenant's alerts say, rendered as they are mailed, for events of this kind. */
  const alerts = async (tenantId: string, kind: string): Promise<NotificationEvent[]> => {
    const rows = await rotor.clients.db
      .selectFrom('notification_outbox')
      .select('event')
      .where('tenant_id', '=', tenantId)
      .where('audience', '=', 'ops')
      .orderBy('id')
      .execute();
    return rows.map((r) => r.event as unknown as NotificationEvent).filter((e) => e.kind === kind);
  };

  const healthy = (s: SecretStatus): boolean =>
    (s.state === 'ACTIVE' || s.state === 'IN_GRACE') && !s.repair && !s.rotationId;

  const cases: [Server, Strategy, Step][] = [];
  for (const server of ['mariadb', 'redis'] as const) {
    for (const strategy of ['alternating', 'single'] as const) {
      for (const step of ['apply', 'verify', 'revoke'] as const) {
        // A single MariaDB user's old password stopped working at apply: its revoke sends
        // nothing, so there is no revoke for the server to be down at.
        if (server === 'mariadb' && strategy === 'single' && step === 'revoke') continue;
        cases.push([server, strategy, step]);
      }
    }
  }

  it.each(cases)(
    '%s (%s) down at %s: NEEDS_ATTENTION naming the step, the credential in use still logs in, and a retry recovers once it is back',
    async (server, strategy, step) => {
      const tenantId = uniqueName('fm');
      const target = await spec(server, strategy);
      const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
        tenantId,
        name: 'db',
        type: SecretType.DatabasePassword,
        policy: { requiresApproval: false, graceSeconds: 2, maxAttempts: 2, repairEverySeconds: 1 },
        target,
      });
      await waitForStatus(
        rotor.client,
        handle.workflowId,
        (s) => healthy(s) && s.currentVersion === 1,
      );
      const path = secretVaultPath(tenantId, 'db');
      const read = async (version?: number) => {
        const r = await rotor.clients.vault.read(path, version);
        return {
          version: r?.version,
          username: String(r?.data.username),
          password: String(r?.data.value),
        };
      };
      const v1 = await read();
      expect(await loginError(server, v1.username, v1.password)).toBeNull();

      armed = { server, step };
      let text = '';
      try {
        await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: `${server} down` });
        const stuck = await waitForStatus(
          rotor.client,
          handle.workflowId,
          (s) => s.state === 'NEEDS_ATTENTION',
          120_000,
        );
        expect(armed).toBeNull(); // The outage really began at that step.
        expect(stuck.tenantId).toBe(tenantId);
        // A connection refused or cut is the target's failure, retried then reported.
        expect(stuck.lastErrorType).toBe('TargetRejected');

        // The alert names the step, and says only what is true of the credentials.
        const failed = await pollUntil(
          'the failure alert',
          () => alerts(tenantId, 'rotation.failed'),
          (events) => events.length > 0,
          { timeout: 30_000, interval: 500 },
        );
        // Apply and verify are one activity on this path: its retry applies again first, and it
        // is there, with the server still down, that the last attempt failed.
        const named = step === 'verify' ? 'apply' : step;
        const [event] = failed;
        expect(event?.step).toBe(named);
        text = renderDigest(tenantId, 'ops', failed).text;
        expect(text).toContain(`failed in its ${named} step (TargetRejected)`);
        if (step === 'revoke') expect(text).toContain('it still works');

        // Down past the retry budget (2 attempts, 1 s apart): the lifecycle still answers.
        await new Promise((r) => setTimeout(r, 4000));
        const during = await handle.query(statusQuery);
        expect(during.state).toBe('NEEDS_ATTENTION');
        if (step === 'revoke') {
          // Promoted before grace: Vault holds the new credential, and the previous one, not yet
          // revoked, still logs in, as the alert says.
          expect(during.currentVersion).toBe(2);
          expect(during.previousCredentialLive).toBe(true);
          expect(await loginError(server, v1.username, v1.password)).toBeNull();
          const v2 = await read();
          expect(v2.version).toBe(during.currentVersion);
          expect(await loginError(server, v2.username, v2.password)).toBeNull();
        } else {
          // Nothing reached consumers: Vault's current is what it was.
          expect(during.currentVersion).toBe(1);
          expect(await read()).toEqual(v1);
          // It still logs in, except for a single MariaDB user whose password apply already
          // changed: that is put back once the server can be reached (asserted below), and the
          // alert says Vault and the target may not agree until then.
          const replaced = server === 'mariadb' && strategy === 'single' && step === 'verify';
          expect(await loginError(server, v1.username, v1.password)).toBe(replaced ? '1045' : null);
          if (replaced) expect(text).toContain('may not agree');
        }
      } finally {
        armed = null;
        await proxies[server].up();
      }

      // Back: owed steps finish on their own; a failed rotation waits for a human (retry).
      let retried = false;
      const settled = await pollUntil(
        'the lifecycle to be healthy again',
        async () => {
          const s = await handle.query(statusQuery);
          // A failed revoke is Rotor's to retry: no human step (and the status passes through
          // NEEDS_ATTENTION without a retry time for a moment as the revoke that worked clears it).
          const failedRotation =
            step !== 'revoke' &&
            s.state === 'NEEDS_ATTENTION' &&
            !s.repair &&
            !s.rotationId &&
            !s.revokeRetryAt;
          if (failedRotation) {
            // Undone, before the retry: the old credential logs in, Vault's current unchanged.
            if (!retried) {
              expect(await read()).toEqual(v1);
              expect(await loginError(server, v1.username, v1.password)).toBeNull();
            }
            retried = true;
            await handle.signal(resumeSignal, { requestedBy: 'oncall', reason: 'restored' });
          }
          return s;
        },
        (s) => healthy(s) && s.previousVersion === null && s.rotationsCompleted >= 2,
        { timeout: 120_000, interval: 1000 },
      );
      // A rotation that failed needed a human's retry; a failed revoke was retried by Rotor alone.
      expect(retried).toBe(step !== 'revoke');

      const now = await read();
      expect(now.version).toBe(settled.currentVersion);
      expect(await loginError(server, now.username, now.password)).toBeNull();
      // The credential before it was revoked after grace: only Vault's current one logs in.
      expect(await loginError(server, v1.username, v1.password)).toBe(refused(server, strategy));
      expect(await rotor.clients.vault.read(secretStagingPath(tenantId, 'db'))).toBeUndefined();
      await handle.terminate('case over');
    },
    300_000,
  );

  it.each([
    ['mariadb', 'CREATE USER'],
    ['redis', '+acl|getuser'],
  ] as const)(
    'a %s rotator lacking %s: the first rotation names the privilege, applies nothing, and the user is as it was',
    async (server, privilege) => {
      // The rotator can log in and nothing more: no CREATE USER on MariaDB, no +acl on Redis.
      const connection = uniqueName(`weak-${server}`);
      const credential =
        server === 'mariadb'
          ? await mariadb.createRotatorLogin([])
          : { username: uniqueName('rotor_weak'), password: uniqueName('pw') };
      if (server === 'redis') {
        await redis.admin.call(
          'ACL',
          'SETUSER',
          credential.username,
          'on',
          `>${credential.password}`,
          '-@all',
        );
      }
      const at = server === 'mariadb' ? mariadb.server : redis;
      await saveConnection(
        rotor.clients.db,
        rotor.clients.vault,
        {
          name: connection,
          kind: server,
          host: at.host,
          port: at.port,
          database: null,
          tls: { mode: 'disable' },
        },
        credential,
        'test',
      );
      let user: string;
      let unchanged: () => Promise<void>;
      if (server === 'mariadb') {
        const [created] = await mariadb.createUsers('weak_app');
        user = created?.name ?? '';
        const password = created?.password ?? '';
        unchanged = async () => expect(await mariadb.loginError(user, password)).toBeNull();
      } else {
        [user = ''] = await redis.createUsers('weak_app');
        unchanged = async () =>
          expect(await redis.aclUser(user)).toEqual({ on: false, passwords: [] });
      }
      const tenantId = uniqueName('weak');
      const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
        tenantId,
        name: 'db',
        type: SecretType.DatabasePassword,
        policy: { requiresApproval: false, graceSeconds: 2, maxAttempts: 2, repairEverySeconds: 1 },
        target:
          server === 'mariadb'
            ? { kind: 'mariadb_user', connection, strategy: 'single', user }
            : { kind: 'redis_acl', connection, strategy: 'single', user },
      });
      try {
        const stuck = await waitForStatus(
          rotor.client,
          handle.workflowId,
          (s) => s.state === 'NEEDS_ATTENTION',
        );
        expect(stuck.lastErrorType).toBe('TargetRejected');
        expect(stuck.currentVersion).toBeNull();
        const failed = await pollUntil(
          'the failure alert',
          () => alerts(tenantId, 'rotation.failed'),
          (events) => events.length > 0,
          { timeout: 30_000, interval: 500 },
        );
        expect(failed[0]).toMatchObject({ step: 'apply', missingPrivilege: privilege });
        expect(renderDigest(tenantId, 'ops', failed).text).toContain(
          `The rotator lacks the ${privilege} privilege on the target: grant it`,
        );
        // Nothing half-applied: the user is as it was, and consumers find nothing in Vault.
        await unchanged();
        expect(await rotor.clients.vault.read(secretVaultPath(tenantId, 'db'))).toBeUndefined();
      } finally {
        await handle.terminate('case over');
        if (server === 'redis') await redis.admin.call('ACL', 'DELUSER', credential.username);
      }
    },
    120_000,
  );
});
