import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import nodeVault from 'node-vault';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditTrail } from '../../audit';
import { buildApp } from '../../api/app';
import { createToken } from '../../api/auth/tokens';
import { RotateRefusedError, requestRotation } from '../../control';
import { createDb } from '../../db';
import { Role, SecretType, secretVaultPath } from '../../domain';
import type { PostgresRoleTarget } from '../../domain';
import { pauseSignal, resumeSignal, rotateNowSignal } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { setUpPgTarget } from '../helpers/pg-target';
import type { PgTarget } from '../helpers/pg-target';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import { startToggleProxy } from '../helpers/toggle-proxy';
import type { ToggleProxy } from '../helpers/toggle-proxy';
import type { TestRotor } from '../helpers/stack';
import { PromoteOutageVault } from '../helpers/promote-outage-vault';

const INVALID_PASSWORD = '28P01';

/** At `version` with no rotation running: a rotate request now starts a new one. */
const settled =
  (version: number) =>
  (s: { currentVersion: number | null; rotationId?: string | null }): boolean =>
    s.currentVersion === version && !s.rotationId;
const LOGIN_NOT_PERMITTED = '28000';

describe('a lifecycle under faults and hostile input keeps running, and Vault and the target agree', () => {
  let target: PgTarget;
  let rotor: TestRotor;
  let outageVault: PromoteOutageVault;
  const vaultOutageQueue = `vault-outage-${randomUUID()}`;
  const dbOutageQueue = `db-outage-${randomUUID()}`;
  let dbProxy: ToggleProxy;
  const tenants: string[] = [];
  /** Every tenant this file creates, for the audit check at the end. */
  const track = (tenantId: string): string => {
    tenants.push(tenantId);
    return tenantId;
  };
  const verifyThenRevokeQueue = `verify-revoke-${randomUUID()}`;
  /** Roles whose verification fails, after which the rotator loses its grant on them. */
  const breakAfterApply = new Set<string>();
  let rotator = '';

  beforeAll(async () => {
    target = await setUpPgTarget();
    rotator = new URL(target.rotatorUrl).username;
    rotor = await createTestRotor(testConfig({ ROTOR_TARGET_DATABASE_URL: target.rotatorUrl }));
    await rotor.startWorker();
    const { addr, kvMount, token } = rotor.config.vault;
    outageVault = new PromoteOutageVault(
      nodeVault({ apiVersion: 'v1', endpoint: addr, token }),
      kvMount,
    );
    await rotor.startWorker({ taskQueue: vaultOutageQueue, deps: { vault: outageVault } });
    // The engine database behind a proxy this file can take down (a real outage for the worker).
    const dbUrl = new URL(rotor.config.databaseUrl);
    dbProxy = await startToggleProxy({ host: dbUrl.hostname, port: Number(dbUrl.port) });
    dbUrl.port = String(dbProxy.port);
    await rotor.startWorker({
      taskQueue: dbOutageQueue,
      deps: { db: createDb(dbUrl.toString(), { max: 2 }) },
    });
    // The real driver; for the listed roles, verification really logs in, then fails, and the
    // rotator loses its ADMIN OPTION on the role, so compensation is refused too.
    const real = rotor.clients.targets;
    await rotor.startWorker({
      taskQueue: verifyThenRevokeQueue,
      deps: {
        targets: {
          ...real,
          postgres_role: {
            ...real.postgres_role,
            verify: async (spec, staged, step) => {
              await real.postgres_role.verify(spec, staged, step);
              const role = spec.strategy === 'single' ? spec.role : '';
              if (!breakAfterApply.has(role)) return;
              await revokeGrant(role);
              throw ApplicationFailure.nonRetryable('injected: verification', 'VerificationFailed');
            },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await rotor?.close();
    await target?.close();
    await dbProxy?.close();
  });

  const revokeGrant = (role: string) =>
    target.superuser.query(
      `REVOKE ${pg.escapeIdentifier(role)} FROM ${pg.escapeIdentifier(rotator)}`,
    );
  const restoreGrant = (role: string) =>
    target.superuser.query(
      `GRANT ${pg.escapeIdentifier(role)} TO ${pg.escapeIdentifier(rotator)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
    );
  const credential = async (path: string, version: number) => {
    const read = await rotor.clients.vault.read(path, version);
    return { username: String(read?.data.username), password: String(read?.data.value) };
  };
  /** The credential Vault labels current: what a consumer following the labels logs in with. */
  const vaultCurrent = async (path: string) => {
    const { labels } = await rotor.clients.vault.metadata(path);
    return { version: labels.current, ...(await credential(path, labels.current ?? 0)) };
  };
  const startPg = (queue: string, spec: PostgresRoleTarget, graceSeconds = 2) =>
    startSecret(rotor.client, queue, {
      tenantId: track(uniqueName('hard')),
      name: 'orders-db',
      type: SecretType.DatabasePassword,
      policy: { requiresApproval: false, graceSeconds, maxAttempts: 2, repairEverySeconds: 1 },
      target: spec,
    });
  const rotationRow = (id: string) =>
    rotor.clients.db
      .selectFrom('rotations')
      .select(['status', 'error_type'])
      .where('id', '=', id)
      .executeTakeFirst();

  it('ignores a rotate signal whose reason holds a NUL byte, and keeps answering rotate requests', async () => {
    const tenantId = track(uniqueName('nul'));
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'key',
    });
    await waitForStatus(rotor.client, handle.workflowId, settled(1));
    await handle.signal(rotateNowSignal, { requestedBy: 'tenant', reason: 'x\u0000' });
    await expect(
      requestRotation(rotor.client, handle.workflowId, {
        requestedBy: 'tenant',
        reason: 'y\u0000',
      }),
    ).rejects.toMatchObject({ code: 'ROT_ERR_VALIDATION' });

    const answer = await requestRotation(rotor.client, handle.workflowId, {
      requestedBy: 'tenant',
      reason: 'clean',
    });
    const done = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 2,
    );
    expect(done.state).not.toBe('NEEDS_ATTENTION');
    await expect.poll(() => rotationRow(answer.rotationId)).toMatchObject({ status: 'COMPLETED' });
    const { count } = await rotor.clients.db
      .selectFrom('rotations')
      .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('secrets.workflow_id', '=', handle.workflowId)
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(2); // The initial version and the clean request: nothing else ran.
  });

  it('answers rotate-now with a rotation id: a burst runs no rotation that was not answered, and during grace a request is queued with the same id until grace ends', async () => {
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId: track(uniqueName('burst')),
      name: 'key',
      policy: { graceSeconds: 6 },
    });
    await waitForStatus(rotor.client, handle.workflowId, settled(1));
    const ask = (reason: string) =>
      requestRotation(rotor.client, handle.workflowId, { requestedBy: 'ops', reason });
    // Each request starts a rotation, joins the one whose value is not made yet, or is queued
    // behind it (later requests join the queued one): never more rotations than ids answered.
    const burst = await Promise.all([ask('one'), ask('two'), ask('three')]);
    const ids = [...new Set(burst.map((a) => a.rotationId))];
    expect(ids.length).toBeLessThanOrEqual(2);
    expect(burst.map((a) => a.status)).toContain('started');
    const rotated = 1 + ids.length;
    const inGrace = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => settled(rotated)(s) && s.state === 'IN_GRACE',
    );
    expect(inGrace.rotationsCompleted).toBe(rotated);
    for (const id of ids) expect(await rotationRow(id)).toMatchObject({ status: 'COMPLETED' });

    const queued = await ask('during grace');
    expect(queued).toMatchObject({ status: 'queued', startsAfter: inGrace.graceEndsAt });
    expect(await ask('again')).toEqual(queued);
    const status = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === rotated + 1,
    );
    expect(status.rotationsCompleted).toBe(rotated + 1);
    await expect.poll(() => rotationRow(queued.rotationId)).toMatchObject({ status: 'COMPLETED' });
  });

  it('refuses rotate-now with a reason while paused or in NEEDS_ATTENTION, instead of accepting and dropping it', async () => {
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId: track(uniqueName('refuse')),
      name: 'key',
    });
    await waitForStatus(rotor.client, handle.workflowId, settled(1));
    await handle.signal(pauseSignal, { requestedBy: 'ops', reason: 'freeze' });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.paused);
    const refusal = await requestRotation(rotor.client, handle.workflowId, {
      requestedBy: 'ops',
      reason: 'now',
    }).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(RotateRefusedError);
    expect(refusal).toMatchObject({ code: 'ROT_ERR_PAUSED', statusCode: 409 });
  });

  it('keeps running when revoking at the end of grace is refused: the previous role stays live and visible, and is locked once the rotator may again', async () => {
    const [a = '', b = ''] = await target.createRoles('rev_a', 'rev_b');
    const handle = await startPg(rotor.config.temporal.taskQueue, {
      kind: 'postgres_role',
      strategy: 'alternating',
      roles: [a, b],
    });
    const first = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1,
    );
    const path = secretVaultPath(first.tenantId, 'orders-db');
    const v1 = await credential(path, 1);
    expect(v1.username).toBe(a);

    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'alternate' });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.currentVersion === 2);
    await revokeGrant(a); // The rotator loses its ADMIN OPTION on the previous role.

    const stuck = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.state === 'NEEDS_ATTENTION',
    );
    expect(stuck).toMatchObject({
      lastErrorType: 'TargetRejected',
      previousVersion: 1,
      previousCredentialLive: true,
    });
    expect(stuck.revokeRetryAt).not.toBeNull();
    expect(await target.loginError(a, v1.password)).toBeNull(); // True: it still works.
    // Visible in the API, and rotate-now says why it will not rotate instead of taking it.
    const app = buildApp({
      checks: {},
      logLevel: 'silent',
      services: { db: rotor.clients.db, temporal: rotor.client, config: rotor.config },
    });
    try {
      const { token } = await createToken(rotor.clients.db, { name: 'ops', role: Role.Admin });
      const shown = await app.inject({
        method: 'GET',
        url: `/api/v1/secrets/${first.tenantId}/orders-db`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(shown.json()).toMatchObject({
        state: 'NEEDS_ATTENTION',
        lastErrorType: 'TargetRejected',
        previousVersion: 1,
        previousCredentialLive: true,
      });
      const refused = await app.inject({
        method: 'POST',
        url: `/api/v1/secrets/${first.tenantId}/orders-db/rotate`,
        headers: { authorization: `Bearer ${token}` },
        payload: { reason: 'now' },
      });
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({ error: { code: 'ROT_ERR_NEEDS_ATTENTION' } });
    } finally {
      await app.close();
    }
    await expect
      .poll(
        async () =>
          await rotor.clients.db
            .selectFrom('secrets')
            .select(['state', 'previous_version'])
            .where('workflow_id', '=', handle.workflowId)
            .executeTakeFirst(),
      )
      .toEqual({ state: 'NEEDS_ATTENTION', previous_version: 1 });

    await restoreGrant(a);
    await handle.signal(resumeSignal, { requestedBy: 'oncall', reason: 'grant restored' });
    const healed = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.previousVersion === null && s.state === 'ACTIVE',
    );
    expect(healed).toMatchObject({ previousCredentialLive: false, currentVersion: 2 });
    expect(await target.loginError(a, v1.password)).toBe(LOGIN_NOT_PERMITTED);
    const current = await vaultCurrent(path);
    expect(await target.loginError(current.username, current.password)).toBeNull();
  });

  it('rolls a single-role rotation forward when Vault is down at promote past the retry budget', async () => {
    const [role = ''] = await target.createRoles('promote_out');
    const handle = await startPg(vaultOutageQueue, {
      kind: 'postgres_role',
      strategy: 'single',
      role,
    });
    const first = await waitForStatus(rotor.client, handle.workflowId, settled(1));
    const path = secretVaultPath(first.tenantId, 'orders-db');

    outageVault.failPromote = true;
    const answer = await requestRotation(rotor.client, handle.workflowId, {
      requestedBy: 'test',
      reason: 'promote during an outage',
    });
    const stuck = await waitForStatus(rotor.client, handle.workflowId, (s) => s.repair != null);
    expect(stuck.state).toBe('NEEDS_ATTENTION');
    expect(stuck.repair).toMatchObject({
      rotationId: answer.rotationId,
      steps: ['promoteVersion'],
    });
    // The target took the new password; until promote lands, Vault's label still says version 1.
    const staged = await credential(path, 2);
    expect(await target.loginError(role, staged.password)).toBeNull();

    outageVault.failPromote = false;
    await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 2 && s.repair === null,
    );
    // Rolled forward, the rotation completes as any other: its row, then a state that is not
    // NEEDS_ATTENTION any more, and Vault's current credential is the one the role accepts.
    await expect.poll(() => rotationRow(answer.rotationId)).toMatchObject({ status: 'COMPLETED' });
    expect((await waitForStatus(rotor.client, handle.workflowId, () => true)).state).toMatch(
      /^(IN_GRACE|ACTIVE)$/,
    );
    const current = await vaultCurrent(path);
    expect(current.version).toBe(2);
    expect(await target.loginError(role, current.password)).toBeNull();
  });

  it('retries a compensation the target refuses until the old password works again, then a retry rotates', async () => {
    const [role = ''] = await target.createRoles('comp_out');
    const handle = await startPg(verifyThenRevokeQueue, {
      kind: 'postgres_role',
      strategy: 'single',
      role,
    });
    const first = await waitForStatus(rotor.client, handle.workflowId, settled(1));
    const path = secretVaultPath(first.tenantId, 'orders-db');
    const v1 = await credential(path, 1);

    breakAfterApply.add(role);
    const answer = await requestRotation(rotor.client, handle.workflowId, {
      requestedBy: 'test',
      reason: 'fail and cannot undo',
    });
    const stuck = await waitForStatus(rotor.client, handle.workflowId, (s) => s.repair != null);
    expect(stuck).toMatchObject({ state: 'NEEDS_ATTENTION', currentVersion: 1 });
    expect(stuck.repair?.steps).toEqual(['compensateTarget', 'discardPendingVersion']);
    // What is true meanwhile: the target holds the failed rotation's password.
    expect(await target.loginError(role, v1.password)).toBe(INVALID_PASSWORD);

    breakAfterApply.delete(role);
    await restoreGrant(role);
    const undone = await waitForStatus(rotor.client, handle.workflowId, (s) => s.repair === null);
    expect(undone).toMatchObject({ state: 'NEEDS_ATTENTION', currentVersion: 1 });
    expect(await target.loginError(role, v1.password)).toBeNull();
    await expect
      .poll(() => rotationRow(answer.rotationId))
      .toMatchObject({ status: 'FAILED', error_type: 'VerificationFailed' });

    await handle.signal(resumeSignal, { requestedBy: 'oncall', reason: 'fixed' });
    // The failed rotation never reached the consumer path, so the retry's value is version 2.
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.currentVersion === 2);
    const current = await vaultCurrent(path);
    expect(await target.loginError(role, current.password)).toBeNull();
  });
  it('keeps running when the engine database is down past the retry budget at the start of a rotation, and rotates on resume once it is back', async () => {
    const tenantId = track(uniqueName('dbdown'));
    const handle = await startSecret(rotor.client, dbOutageQueue, { tenantId, name: 'key' });
    await waitForStatus(rotor.client, handle.workflowId, settled(1));
    const path = secretVaultPath(tenantId, 'key');
    const before = await rotor.clients.vault.read(path);

    await dbProxy.down();
    try {
      // The workflow answers without the database: the request is taken, and then fails.
      await requestRotation(rotor.client, handle.workflowId, {
        requestedBy: 'ops',
        reason: 'db down',
      });
      const stuck = await waitForStatus(
        rotor.client,
        handle.workflowId,
        (s) => s.state === 'NEEDS_ATTENTION',
      );
      expect(stuck).toMatchObject({ currentVersion: 1 });
      expect(stuck.lastErrorType).not.toBeNull();
      // What consumers read did not move.
      expect((await rotor.clients.vault.read(path))?.version).toBe(before?.version);
    } finally {
      await dbProxy.up();
    }
    await handle.signal(resumeSignal, { requestedBy: 'oncall', reason: 'database back' });
    // The failure is recorded once the database answers again (its retries back off to 1 min).
    const healed = await waitForStatus(rotor.client, handle.workflowId, settled(2), 180_000);
    expect(healed.state).toMatch(/^(IN_GRACE|ACTIVE)$/);
    expect((await rotor.clients.vault.read(path))?.version).toBe(2);
  }, 240_000);

  it('leaves every touched tenant’s audit chain intact', async () => {
    for (const tenantId of tenants) {
      const report = await verifyAuditTrail(rotor.clients.db, { tenantId });
      expect(report.ok, tenantId).toBe(true);
    }
    expect(tenants.length).toBeGreaterThan(0);
  });
});
