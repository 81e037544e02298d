import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain';
import type { ActivityDeps } from '../deps';
import { activityLog } from '../log';

export interface VerifyInput {
  rotationId: string;
  vaultPath: string;
  version: number;
}

/**
 * Proves the staged version is what consumers will read: present in Vault, written by this
 * rotation, with a non-empty value. Targets with a system to log in to (PostgreSQL roles) verify
 * against that system as well.
 */
export function createVerifyVersion({ vault }: Pick<ActivityDeps, 'vault'>) {
  return async function verifyVersion(input: VerifyInput): Promise<void> {
    const staged = await vault.read(input.vaultPath, input.version);
    const value = staged?.data.value;
    if (
      staged?.data.rotor_rotation_id !== input.rotationId ||
      typeof value !== 'string' ||
      !value
    ) {
      throw ApplicationFailure.retryable(
        `Vault ${input.vaultPath} version ${input.version} is missing or was not written by rotation ${input.rotationId}`,
        ErrorType.VerificationFailed,
      );
    }
    activityLog().info('Verified the staged version', { version: input.version });
  };
}
