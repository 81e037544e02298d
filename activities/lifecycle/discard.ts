import type { RequestOrigin } from '../../domain';
import type { ActivityDeps } from '../deps';
import { activityLog } from '../log';
import { recordRotationStep } from './record-step';

export interface DiscardInput {
  rotationId: string;
  secretId: string;
  tenantId: string;
  vaultPath: string;
  version: number;
  /** The consumer-safe layout's staging path: emptied; the consumer path is never touched. */
  stagingPath?: string;
  /** Where the API request that asked for this rotation came from (none for a scheduled one). */
  origin?: RequestOrigin;
}

/**
 * Compensation for a rotation that failed after staging: the pending value is removed (the staging
 * path emptied; before staging paths, the pending version destroyed and unlabelled), leaving what
 * consumers read untouched. Idempotent.
 */
export function createDiscardPendingVersion({ db, vault }: ActivityDeps) {
  return async function discardPendingVersion(input: DiscardInput): Promise<void> {
    if (input.stagingPath) {
      // Only this rotation stages (one rotation at a time per secret): nothing there is kept.
      await vault.deleteAll(input.stagingPath);
    } else {
      const meta = await vault.metadata(input.vaultPath);
      await vault.destroyVersions(input.vaultPath, [input.version]);
      if (meta.labels.pending === input.version) {
        await vault.setLabels(input.vaultPath, {
          current: meta.labels.current,
          previous: meta.labels.previous,
        });
      }
    }
    await recordRotationStep(db, {
      rotationId: input.rotationId,
      secretId: input.secretId,
      tenantId: input.tenantId,
      secret: { pending_version: null, updated_at: new Date() },
      secretIf: { column: 'pending_version', equals: input.version },
      audit: {
        action: 'rotation.compensated',
        outcome: 'info',
        details: { discardedVersion: input.version },
        idempotencyKey: `${input.rotationId}:compensated`,
        origin: input.origin,
      },
    });
    activityLog().warn('Discarded the pending version after a failed rotation', {
      version: input.version,
    });
  };
}
