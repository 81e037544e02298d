import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretType, secretVaultPath } from '../../domain';
import { rotateNowSignal } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { setUpPgTarget } from '../helpers/pg-target';
import type { PgTarget } from '../helpers/pg-target';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

/**
 * A single PostgreSQL role stops accepting the old password the moment apply sets the new one.
 * When verification then fails for a while (a connection limit, a login hiccup), the rotation is
 * retried for minutes before the workflow compensates. Consumers read the old password from Vault
 * all along, so between attempts the role must accept it again.
 */
describe('a single-role rotation whose verification keeps failing', () => {
  let target: PgTarget;
  let rotor: TestRotor;
  const queue = `single-verify-${randomUUID()}`;
  /** Roles whose verification fails (retryably) after really logging in. */
  const failing = new Set<string>();
  /** Per role: at the start of each retried apply, whether Vault's newest credential logs in. */
  const betweenAttempts = new Map<string, (string | null)[]>();
  /** Per role: how many applies ran. */
  const applies = new Map<string, number>();

  beforeAll(async () => {
    target = await setUpPgTarget();
    rotor = await createTestRotor(testConfig({ ROTOR_TARGET_DATABASE_URL: target.rotatorUrl }));
    const real = rotor.clients.targets;
    await rotor.startWorker({
      taskQueue: queue,
      deps: {
        targets: {
          ...real,
          postgres_role: {
            ...real.postgres_role,
            apply: async (spec, staged, step, issue) => {
              const role = spec.strategy === 'single' ? spec.role : '';
              const n = applies.get(role) ?? 0;
              applies.set(role, n + 1);
              if (failing.has(role) && n > 0) {
                // What a consumer does between two attempts: read Vault's newest version, log in.
                const read = await rotor.clients.vault.read(step.vaultPath);
                const seen = betweenAttempts.get(role) ?? [];
                seen.push(await target.loginError(role, String(read?.data.value)));
                betweenAttempts.set(role, seen);
              }
              return real.postgres_role.apply(spec, staged, step, issue);
            },
            verify: async (spec, staged, step) => {
              await real.postgres_role.verify(spec, staged, step);
              const role = spec.strategy === 'single' ? spec.role : '';
              if (failing.has(role)) {
                throw ApplicationFailure.retryable('injected: verification', 'VerificationFailed');
              }
            },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await rotor?.close();
    await target?.close();
  });

  it('leaves the role accepting the password consumers read between attempts, not only after the compensation', async () => {
    const [role = ''] = await target.createRoles('single_verify');
    const tenantId = uniqueName('sverify');
    const handle = await startSecret(rotor.client, queue, {
      tenantId,
      name: 'orders-db',
      type: SecretType.DatabasePassword,
      policy: { requiresApproval: false, graceSeconds: 2, maxAttempts: 3, repairEverySeconds: 1 },
      target: { kind: 'postgres_role', strategy: 'single', role },
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.currentVersion === 1);
    const path = secretVaultPath(tenantId, 'orders-db');
    const v1 = await rotor.clients.vault.read(path);
    expect(await target.loginError(role, String(v1?.data.value))).toBeNull();

    failing.add(role);
    applies.set(role, 0);
    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'verify fails' });
    const stuck = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.state === 'NEEDS_ATTENTION',
    );
    failing.delete(role);

    // Three attempts: apply really ran each time, and before the second and the third the
    // password consumers read (version 1, never replaced) logged in.
    expect(stuck).toMatchObject({ currentVersion: 1, lastErrorType: 'VerificationFailed' });
    expect(applies.get(role)).toBe(3);
    expect(betweenAttempts.get(role)).toEqual([null, null]);
    const newest = await rotor.clients.vault.read(path);
    expect(newest?.version).toBe(1);
    expect(await target.loginError(role, String(newest?.data.value))).toBeNull();
  });
});
