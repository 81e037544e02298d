import { appendAudit } from '../audit/append';
import type { ActivityDeps } from '../deps';
import { activityLog } from '../log';

export interface DiscardInput {
  rotationId: string;
  secretId: string;
  tenantId: string;
  vaultPath: string;
  version: number;
}

/**
 * Compensation for a rotation that failed after staging: destroys the pending version's data and
 * clears the pending label, leaving current (the old credential) untouched. Idempotent.
 */
export function createDiscardPendingVersion({ db, vault }: ActivityDeps) {
  return async function discardPendingVersion(input: DiscardInput): Promise<void> {
    const meta = await vault.metadata(input.vaultPath);
    await vault.destroyVersions(input.vaultPath, [input.version]);
    if (meta.labels.pending === input.version) {
      await vault.setLabels(input.vaultPath, {
        current: meta.labels.current,
        previous: meta.labels.previous,
      });
    }
    await db
      .updateTable('secrets')
      .set({ pending_version: null, updated_at: new Date() })
      .where('id', '=', input.secretId)
      .where('pending_version', '=', input.version)
      .execute();
    await appendAudit(db, {
      tenantId: input.tenantId,
      secretId: input.secretId,
      rotationId: input.rotationId,
      actor: 'rotor',
      action: 'rotation.compensated',
      outcome: 'info',
      details: { discardedVersion: input.version },
      idempotencyKey: `${input.rotationId}:compensated`,
    });
    activityLog().warn('Discarded the pending version after a failed rotation', {
      version: input.version,
    });
  };
}
