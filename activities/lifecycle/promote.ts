import { appendAudit } from '../audit/append';
import type { ActivityDeps } from '../deps';
import { activityLog } from '../log';

export interface PromoteInput {
  rotationId: string;
  secretId: string;
  tenantId: string;
  vaultPath: string;
  version: number;
}

/**
 * pending → current, old current → previous, in Vault's custom_metadata and in the engine
 * database. Idempotent: promoting the version that is already current changes nothing.
 */
export function createPromoteVersion({ db, vault }: ActivityDeps) {
  return async function promoteVersion(
    input: PromoteInput,
  ): Promise<{ previousVersion: number | null }> {
    const meta = await vault.metadata(input.vaultPath);
    const alreadyPromoted = meta.labels.current === input.version;
    const previousVersion = (alreadyPromoted ? meta.labels.previous : meta.labels.current) ?? null;
    if (!alreadyPromoted) {
      await vault.setLabels(input.vaultPath, {
        current: input.version,
        previous: previousVersion ?? undefined,
      });
    }
    const now = new Date();
    await db
      .updateTable('secrets')
      .set({
        current_version: input.version,
        previous_version: previousVersion,
        pending_version: null,
        last_rotated_at: now,
        updated_at: now,
      })
      .where('id', '=', input.secretId)
      .execute();
    await db
      .updateTable('rotations')
      .set({ status: 'PROMOTED' })
      .where('id', '=', input.rotationId)
      .execute();
    await appendAudit(db, {
      tenantId: input.tenantId,
      secretId: input.secretId,
      rotationId: input.rotationId,
      actor: 'rotor',
      action: 'rotation.promoted',
      outcome: 'success',
      details: { version: input.version, previousVersion },
      idempotencyKey: `${input.rotationId}:promoted`,
    });
    activityLog().info('Promoted the staged version to current', {
      version: input.version,
      previousVersion,
    });
    return { previousVersion };
  };
}
