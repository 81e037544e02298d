import { ApplicationFailure } from '@temporalio/common';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditTrail } from '../../audit';
import { createDb } from '../../db';
import { SecretType, secretStagingPath, secretVaultPath } from '../../domain';
import { VaultKv } from '../../vault';
import { resumeSignal, rotateNowSignal, statusQuery } from '../../workflows';
import type { SecretStatus } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { setUpPgTarget } from '../helpers/pg-target';
import type { PgTarget } from '../helpers/pg-target';
import { pollUntil } from '../helpers/poll';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';
import { startToggleProxy } from '../helpers/toggle-proxy';
import type { ToggleProxy } from '../helpers/toggle-proxy';

type Dependency = 'vault' | 'target' | 'database';
type Step = 'stage' | 'apply' | 'verify' | 'promote' | 'revoke';

/** The real Vault client, refusing every request (as an unreachable server would) while down. */
class OutageVault extends VaultKv {
  down = false;
  private check(): void {
    if (this.down)
      throw ApplicationFailure.retryable('injected: Vault unreachable', 'VaultUnavailable');
  }
  override async write(...a: Parameters<VaultKv['write']>) {
    this.check();
    return super.write(...a);
  }
  override async read(...a: Parameters<VaultKv['read']>) {
    this.check();
    return super.read(...a);
  }
  override async metadata(...a: Parameters<VaultKv['metadata']>) {
    this.check();
    return super.metadata(...a);
  }
  override async setLabels(...a: Parameters<VaultKv['setLabels']>) {
    this.check();
    return super.setLabels(...a);
  }
  override async destroyVersions(...a: Parameters<VaultKv['destroyVersions']>) {
    this.check();
    return super.destroyVersions(...a);
  }
  override async deleteAll(...a: Parameters<VaultKv['deleteAll']>) {
    this.check();
    return super.deleteAll(...a);
  }
}

/**
 * Each step boundary of a rotation (alternating PostgreSQL roles: stage → apply → verify →
 * promote → grace → revoke) with each dependency down from that step on for longer than the retry
 * budget, then back. The target and the engine database really go away (a proxy in front of the
 * server is cut); Vault refuses every request at the worker's client. Afterwards: the lifecycle
 * runs, Vault's current credential logs in, nothing is left staged, the previous credential is
 * revoked after grace, and the audit chain verifies.
 */
describe('a rotation with a dependency down at each step, past the retry budget', () => {
  let target: PgTarget;
  let rotor: TestRotor;
  let vault: OutageVault;
  let targetProxy: ToggleProxy;
  let dbProxy: ToggleProxy;
  /** Set by a case: take this dependency down when the rotation reaches this step. */
  let armed: { dependency: Dependency; step: Step } | null = null;

  const outage = async (dependency: Dependency, on: boolean): Promise<void> => {
    if (dependency === 'vault') vault.down = on;
    else await (dependency === 'target' ? targetProxy : dbProxy)[on ? 'down' : 'up']();
  };
  /** Called as the rotation reaches `step`: starts the armed outage there. */
  const reach = async (step: Step): Promise<void> => {
    if (armed?.step !== step) return;
    const { dependency } = armed;
    armed = null;
    await outage(dependency, true);
  };

  beforeAll(async () => {
    target = await setUpPgTarget();
    const targetUrl = new URL(target.rotatorUrl);
    targetProxy = await startToggleProxy({
      host: targetUrl.hostname,
      port: Number(targetUrl.port),
    });
    targetUrl.port = String(targetProxy.port);
    rotor = await createTestRotor(testConfig({ ROTOR_TARGET_DATABASE_URL: targetUrl.toString() }));
    const dbUrl = new URL(rotor.config.databaseUrl);
    dbProxy = await startToggleProxy({ host: dbUrl.hostname, port: Number(dbUrl.port) });
    dbUrl.port = String(dbProxy.port);
    const { addr, kvMount, token } = rotor.config.vault;
    vault = new OutageVault(nodeVault({ apiVersion: 'v1', endpoint: addr, token }), kvMount);
    const real = rotor.clients.targets;
    await rotor.startWorker({
      deps: {
        vault,
        db: createDb(dbUrl.toString(), { max: 4 }),
        targets: {
          ...real,
          postgres_role: {
            ...real.postgres_role,
            apply: async (spec, staged, step) => {
              await reach('apply');
              return real.postgres_role.apply(spec, staged, step);
            },
            verify: async (spec, staged, step) => {
              await reach('verify');
              await real.postgres_role.verify(spec, staged, step);
              await reach('promote'); // Verified: what follows is promote.
            },
            revoke: async (spec, revoked, current, step) => {
              await reach('revoke');
              return real.postgres_role.revoke(spec, revoked, current, step);
            },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await rotor?.close();
    await targetProxy?.close();
    await dbProxy?.close();
    await target?.close();
  });

  const healthy = (s: SecretStatus): boolean =>
    (s.state === 'ACTIVE' || s.state === 'IN_GRACE') && !s.repair && !s.rotationId;

  const cases: [Dependency, Step][] = [];
  for (const dependency of ['vault', 'target', 'database'] as const) {
    for (const step of ['stage', 'apply', 'verify', 'promote', 'revoke'] as const) {
      cases.push([dependency, step]);
    }
  }

  it.each(cases)(
    '%s down at %s: the lifecycle runs on, and afterwards Vault and the target agree',
    async (dependency, step) => {
      const [a = '', b = ''] = await target.createRoles('fm_a', 'fm_b');
      const tenantId = uniqueName('fm');
      const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
        tenantId,
        name: 'db',
        type: SecretType.DatabasePassword,
        policy: { requiresApproval: false, graceSeconds: 2, maxAttempts: 2, repairEverySeconds: 1 },
        target: { kind: 'postgres_role', strategy: 'alternating', roles: [a, b] },
      });
      await waitForStatus(rotor.client, handle.workflowId, healthy);

      armed = { dependency, step };
      if (step === 'stage') await reach('stage');
      try {
        await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: `${dependency} down` });
        // Down past the retry budget (2 attempts, 1 s apart): the lifecycle still answers.
        await new Promise((r) => setTimeout(r, 6000));
        const during = await handle.query(statusQuery);
        expect(during.tenantId).toBe(tenantId);
      } finally {
        armed = null;
        await outage(dependency, false);
      }

      // Back: owed steps finish on their own; a failed rotation waits for a human (retry).
      const settled = await pollUntil(
        'the lifecycle to be healthy again',
        async () => {
          const s = await handle.query(statusQuery);
          if (s.state === 'NEEDS_ATTENTION' && !s.repair && !s.rotationId && !s.revokeRetryAt) {
            await handle.signal(resumeSignal, { requestedBy: 'oncall', reason: 'restored' });
          }
          return s;
        },
        (s) => healthy(s) && s.previousVersion === null && s.rotationsCompleted >= 2,
        { timeout: 150_000, interval: 1000 },
      );
      expect(settled.currentVersion).not.toBeNull();

      const path = secretVaultPath(tenantId, 'db');
      const newest = await rotor.clients.vault.read(path);
      expect(newest?.version).toBe(settled.currentVersion);
      expect(
        await target.loginError(String(newest?.data.username), String(newest?.data.value)),
      ).toBeNull();
      expect(await rotor.clients.vault.read(secretStagingPath(tenantId, 'db'))).toBeUndefined();
      // The previous role was locked after grace: only the current one logs in.
      const other = newest?.data.username === a ? b : a;
      const { rows } = await target.superuser.query<{ rolcanlogin: boolean }>(
        'select rolcanlogin from pg_roles where rolname = $1',
        [other],
      );
      expect(rows).toEqual([{ rolcanlogin: false }]);
      expect((await verifyAuditTrail(rotor.clients.db, { tenantId })).ok).toBe(true);
      await handle.terminate('case over');
    },
    240_000,
  );
});
