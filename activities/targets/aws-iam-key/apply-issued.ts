import type { VaultKv } from '../../../vault';
import { writeStaged } from '../../../vault';
import type { StagedCredential, TargetStep } from '../driver';
import { issuedVaultFields } from './issued';
import type { IssuingTargetDriver } from './issued';

export interface IssuedApplyInput extends TargetStep {
  /** The consumer-safe layout's staging path, where the rotation's placeholder waits. */
  stagingPath: string;
  /** The consumer version the rotation staged (the staged value's `rotor_version`). */
  version: number;
}

/**
 * Apply for a target that issues its own credential, as the apply activity will run it once such
 * targets are wired: the driver issues the credential, and it is written over the rotation's
 * staged placeholder (same staging path, rotation id and version; check-and-set), so verify,
 * promote and consumers all read what the target issued. Nothing else moves: the value stays
 * inside this activity, and only ids go back to the workflow.
 *
 * A crash between the two writes loses the issued secret (AWS shows it once); the retried apply
 * still finds the placeholder staged, and the driver replaces the orphaned key (see its apply).
 */
export async function applyIssued<S>(
  driver: IssuingTargetDriver<S>,
  vault: Pick<VaultKv, 'metadata' | 'write' | 'setLabels'>,
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
  const issued = await driver.apply(spec, staged, current, step);
  if (!issued) return;
  await writeStaged(
    vault,
    input.stagingPath,
    input.rotationId,
    input.version,
    issuedVaultFields(issued),
  );
}
