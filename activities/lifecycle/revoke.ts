import { appendAudit } from '../audit/append';
import type { ActivityDeps } from '../deps';
import { activityLog } from '../log';

export interface RevokeInput {
  rotationId: string;
  secretId: string;
  tenantId: string;
  vaultPath: string;
  version: number;
}

/**
 * Ends the grace period: the previous version's data is destroyed in Vault (consumers still on
 * it fail from now on) and the previous label cleared. Idempotent: revoking twice is harmless.
 */
export function createRevokeVersion({ db, vault }: ActivityDeps) {
  return async function revokeVersion(input: RevokeInput): Promise<void> {
    await vault.destroyVersions(input.vaultPath, [input.version]);
    const meta = await vault.metadata(input.vaultPath);
    if (meta.labels.previous === input.version) {
      await vault.setLabels(input.vaultPath, { ...meta.labels, previous: undefined });
    }
    await db
      .updateTable('secrets')
      .set({ previous_version: null, updated_at: new Date() })
      .where('id', '=', input.secretId)
      .where('previous_version', '=', input.version)
      .execute();
    await appendAudit(db, {
      tenantId: input.tenantId,
      secretId: input.secretId,
      rotationId: input.rotationId,
      actor: 'rotor',
      action: 'credential.revoked',
      outcome: 'success',
      details: { version: input.version },
      idempotencyKey: `${input.rotationId}:revoked`,
    });
    activityLog().info('Revoked the previous version', { version: input.version });
  };
}
