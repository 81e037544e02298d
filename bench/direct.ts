import { randomUUID } from 'node:crypto';
import { createActivities } from '../activities';
import type { ActivityDeps } from '../activities';
import { RotationStatus, SecretState, secretStagingPath, secretVaultPath } from '../domain';
import type { Policy, SecretType } from '../domain';

/** A secret the baseline manages itself: what the workflow would otherwise remember. */
export interface DirectSecret {
  tenantId: string;
  name: string;
  secretId: string;
  vaultPath: string;
  latestVersion: number;
  currentVersion: number | null;
}

/**
 * The baseline: the same activity code the workflow runs for a rotate-now, in the same order and
 * with the same inputs (begin, stage aside, verify, promote, next rotation, finish), called
 * directly in this process with no Temporal. It writes the same rows (rotation, secret, four
 * audit rows) and makes the same Vault calls. The one step it leaves out is handing the
 * "rotation completed" notification to the tenant's notifier workflow, which needs Temporal.
 *
 * Keep it in step with workflows/rotation.ts and workflows/lifecycle/: when the workflow folds or
 * adds a step, this does the same, or the ratio compares different work.
 */
export function createDirectPath(deps: ActivityDeps, type: SecretType, policy: Policy) {
  const acts = createActivities(deps);

  async function rotate(secret: DirectSecret, rotationId: string, requestedBy: string) {
    const ids = { rotationId, secretId: secret.secretId, tenantId: secret.tenantId };
    const stagingPath = secretStagingPath(secret.tenantId, secret.name);
    await acts.beginRotation({
      ...ids,
      reason: 'bench',
      requestedBy,
      fromVersion: secret.currentVersion,
    });
    const { version } = await acts.stageVersion({
      ...ids,
      vaultPath: secret.vaultPath,
      type,
      expectedLatestVersion: secret.latestVersion,
      versionsKept: policy.versionsKept,
      stagingPath,
    });
    await acts.verifyVersion({ rotationId, vaultPath: secret.vaultPath, version, stagingPath });
    const { previousVersion } = await acts.promoteVersion({
      ...ids,
      vaultPath: secret.vaultPath,
      version,
      stagingPath,
      versionsKept: policy.versionsKept,
    });
    secret.latestVersion = Math.max(secret.latestVersion, version);
    secret.currentVersion = version;
    const now = new Date().toISOString();
    const nextRotationAt = await acts.computeNextRotation({ policy, from: now });
    await acts.finishRotation({
      ...ids,
      status: RotationStatus.Completed,
      secretState: previousVersion === null ? SecretState.Active : SecretState.InGrace,
      toVersion: version,
      nextRotationAt,
      actor: requestedBy,
    });
  }

  return {
    /** Registers the secret and rotates in its first version, as a new lifecycle does. */
    async provision(tenantId: string, name: string): Promise<DirectSecret> {
      const vaultPath = secretVaultPath(tenantId, name);
      const secretId = await acts.registerSecret({
        tenantId,
        name,
        type,
        policy,
        workflowId: `direct/${tenantId}/${name}`,
        vaultPath,
        requestedBy: 'bench',
      });
      const secret: DirectSecret = {
        tenantId,
        name,
        secretId,
        vaultPath,
        latestVersion: 0,
        currentVersion: null,
      };
      await rotate(secret, randomUUID(), 'bench');
      return secret;
    },
    /** One rotate-now, from its request to finished; the caller watches it reach promoted. */
    rotate,
  };
}
