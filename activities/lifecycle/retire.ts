import { SecretState } from '../../domain';
import type { RequestOrigin, TargetSpec } from '../../domain';
import { driverFor } from '../targets/registry';
import { heldUsernames } from '../targets/activities';
import { appendAudit } from '../../audit';
import type { ActivityDeps } from '../deps';

export interface RetireInput {
  secretId: string;
  tenantId: string;
  vaultPath: string;
  requestedBy: string;
  reason: string;
  /** destroy-all: every version and the metadata go; keep: data stays, Rotor's labels go. */
  vaultDeletion: 'destroy-all' | 'keep';
  idempotencyKey: string;
  /** The secret's target, if any: everything it issued is locked or revoked there. */
  target?: TargetSpec;
  /**
   * The secret's staging path: a pending value left there by a rotation that still owed its
   * compensation is revoked at the target (what it issued) and destroyed with the rest.
   */
  stagingPath?: string;
  /** Where the API request that asked for it came from. */
  origin?: RequestOrigin;
}

/** Retires a secret: nothing of it stays live in Vault under Rotor's labels. Idempotent. */
export function createRetireSecret({ db, vault, targets }: ActivityDeps) {
  return async function retireSecret(input: RetireInput): Promise<void> {
    if (input.target) {
      const held = await heldUsernames(vault, input.vaultPath, input.stagingPath);
      await driverFor(targets, input.target).retire(input.target, input, held);
    }
    // A pending value is no one's to keep: it goes whatever the deletion policy says.
    if (input.stagingPath) await vault.deleteAll(input.stagingPath);
    if (input.vaultDeletion === 'destroy-all') {
      await vault.deleteAll(input.vaultPath);
    } else if ((await vault.metadata(input.vaultPath)).latestVersion > 0) {
      await vault.setLabels(input.vaultPath, {});
    }
    await db
      .updateTable('secrets')
      .set({
        state: SecretState.Retired,
        next_rotation_at: null,
        pending_version: null,
        updated_at: new Date(),
      })
      .where('id', '=', input.secretId)
      .execute();
    await appendAudit(db, {
      tenantId: input.tenantId,
      secretId: input.secretId,
      actor: input.requestedBy,
      action: 'secret.retired',
      outcome: 'success',
      details: { reason: input.reason, vaultDeletion: input.vaultDeletion },
      idempotencyKey: input.idempotencyKey,
      origin: input.origin,
    });
  };
}
