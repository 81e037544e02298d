import type { TargetSpec } from '../../domain';
import { revokeAtTarget } from '../targets/activities';
import type { ActivityDeps } from '../deps';
import { activityLog } from '../log';
import { recordRotationStep } from './record-step';

export interface RevokeInput {
  rotationId: string;
  secretId: string;
  tenantId: string;
  vaultPath: string;
  version: number;
  /** The secret's target, if any: the previous credential stops working there too. */
  target?: TargetSpec;
}

/**
 * Ends the grace period: the previous version's data is destroyed in Vault (consumers still on
 * it fail from now on) and the previous label cleared. Idempotent: revoking twice is harmless.
 */
export function createRevokeVersion({ db, vault, targets }: ActivityDeps) {
  return async function revokeVersion(input: RevokeInput): Promise<void> {
    // The target first: if it fails, Vault still holds the version and the step is retried.
    if (input.target) await revokeAtTarget({ vault, targets }, input.target, input, input.version);
    await vault.destroyVersions(input.vaultPath, [input.version]);
    const meta = await vault.metadata(input.vaultPath);
    if (meta.labels.previous === input.version) {
      await vault.setLabels(input.vaultPath, { ...meta.labels, previous: undefined });
    }
    await recordRotationStep(db, {
      rotationId: input.rotationId,
      secretId: input.secretId,
      tenantId: input.tenantId,
      secret: { previous_version: null, updated_at: new Date() },
      secretIf: { column: 'previous_version', equals: input.version },
      audit: {
        action: 'credential.revoked',
        outcome: 'success',
        details: { version: input.version },
        idempotencyKey: `${input.rotationId}:revoked`,
      },
    });
    activityLog().info('Revoked the previous version', { version: input.version });
  };
}
