import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain';
import type { ActivityDeps } from '../deps';
import { activityLog } from '../log';
import { readStaged } from '../../vault';

export interface VerifyInput {
  rotationId: string;
  vaultPath: string;
  version: number;
  /** The consumer-safe layout's staging path, where the pending value is (see stageVersion). */
  stagingPath?: string;
}

/**
 * Why the staged version is not what consumers will read (absent, written by another rotation, or
 * with an empty value), or null when it is.
 */
export async function stagedProblem(
  vault: Pick<ActivityDeps['vault'], 'read'>,
  input: VerifyInput,
): Promise<string | null> {
  const staged = input.stagingPath
    ? await readStaged(vault, input.stagingPath, input.rotationId)
    : await vault.read(input.vaultPath, input.version);
  const value = staged?.data.value;
  if (
    staged?.data.rotor_rotation_id !== input.rotationId ||
    staged.version !== input.version ||
    typeof value !== 'string' ||
    !value
  ) {
    return `Vault ${input.stagingPath ?? input.vaultPath} version ${input.version} is missing or was not written by rotation ${input.rotationId}`;
  }
  return null;
}

/**
 * Proves the staged version is what consumers will read: present in Vault, written by this
 * rotation, with a non-empty value. Targets with a system to log in to (PostgreSQL roles) verify
 * against that system as well.
 */
export function createVerifyVersion({ vault }: Pick<ActivityDeps, 'vault'>) {
  return async function verifyVersion(input: VerifyInput): Promise<void> {
    const problem = await stagedProblem(vault, input);
    if (problem) throw ApplicationFailure.retryable(problem, ErrorType.VerificationFailed);
    activityLog().info('Verified the staged version', { version: input.version });
  };
}
