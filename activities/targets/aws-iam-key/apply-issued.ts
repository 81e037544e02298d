import type { VaultKv } from '../../../vault';
import { writeStaged } from '../../../vault';
import type { IssuedCredential, StagedCredential, TargetStep } from '../driver';
import { issuedVaultFields } from './issued';
import type { IssuingTargetDriver } from './issued';

/** Where the staged placeholder records the key ids a user had before apply issued one. */
export const PRIOR_IDS_FIELD = 'rotor_prior_ids';

export interface IssuedApplyInput extends TargetStep {
  /** The consumer-safe layout's staging path, where the rotation's placeholder waits. */
  stagingPath: string;
  /** The consumer version the rotation staged (the staged value's `rotor_version`). */
  version: number;
}

type StagingVault = Pick<VaultKv, 'metadata' | 'write' | 'setLabels'>;

/**
 * Records on the staged placeholder which credentials the target had before apply issues one
 * (check-and-set over the same staging path, rotation id and version): see
 * StagedCredential.priorIds.
 */
export async function recordPriorIds(
  vault: StagingVault,
  input: IssuedApplyInput,
  staged: StagedCredential,
  ids: string[],
): Promise<void> {
  await writeStaged(vault, input.stagingPath, input.rotationId, input.version, {
    value: staged.value,
    [PRIOR_IDS_FIELD]: ids.join(','),
  });
}

/** Writes what the target issued over the rotation's staged placeholder. */
export async function writeIssued(
  vault: StagingVault,
  input: IssuedApplyInput,
  issued: IssuedCredential,
): Promise<void> {
  await writeStaged(
    vault,
    input.stagingPath,
    input.rotationId,
    input.version,
    issuedVaultFields(issued),
  );
}

/**
 * Apply for a target that issues its own credential, as the apply activity runs it: the driver
 * records the keys the user had, issues the credential, and it is written over the rotation's
 * staged placeholder (same staging path, rotation id and version; check-and-set), so verify,
 * promote and consumers all read what the target issued. Nothing else moves: the value stays
 * inside this activity, and only ids go back to the workflow.
 *
 * A crash between the two writes loses the issued secret (AWS shows it once); the retried apply
 * still finds the placeholder staged, with the keys recorded before it, and the driver replaces
 * the orphaned key (see its apply).
 */
export async function applyIssued<S>(
  driver: IssuingTargetDriver<S>,
  vault: StagingVault,
  spec: S,
  staged: StagedCredential,
  current: StagedCredential | null,
  input: IssuedApplyInput,
): Promise<void> {
  const step: TargetStep = {
    rotationId: input.rotationId,
    secretId: input.secretId,
    tenantId: input.tenantId,
    vaultPath: input.vaultPath,
  };
  const issued = await driver.apply(spec, staged, current, step, (ids) =>
    recordPriorIds(vault, input, staged, ids),
  );
  if (issued) await writeIssued(vault, input, issued);
}
