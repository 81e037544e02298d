import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../domain';
import type { VaultKv } from './kv';

/**
 * The consumer-safe layout's staging path. A rotation's pending value is the staging path's newest
 * KV version, tagged with its rotation id and with the consumer version it becomes when promoted
 * (`rotor_version`), so every step and the target's own records use that one number. Consumers
 * never read here; it is emptied once the rotation is promoted or undone.
 */
export interface StagedValue {
  /** The consumer-path version this value becomes (planned as the consumer's newest + 1). */
  version: number;
  /** The value's fields as consumers will read them (value, username…), without bookkeeping. */
  data: Record<string, unknown>;
}

const VERSION_FIELD = 'rotor_version';

/** The value staged by `rotationId`, or null if nothing of that rotation is staged. */
export async function readStaged(
  vault: Pick<VaultKv, 'read'>,
  stagingPath: string,
  rotationId: string,
): Promise<StagedValue | null> {
  const latest = await vault.read(stagingPath);
  if (latest?.data.rotor_rotation_id !== rotationId) return null;
  const version = latest.data[VERSION_FIELD];
  if (typeof version !== 'number' || !Number.isInteger(version)) return null;
  const data = { ...latest.data };
  delete data[VERSION_FIELD];
  return { version, data };
}

/**
 * Stages `data` for `rotationId` as the future consumer `version`; returns that version. With
 * `expectedStagingVersion`, the write succeeds only if the staging path's newest version is that
 * one (0: empty), so of two writers expecting the same state exactly one wins.
 */
export async function writeStaged(
  vault: Pick<VaultKv, 'metadata' | 'write' | 'setLabels'>,
  stagingPath: string,
  rotationId: string,
  version: number,
  data: Record<string, unknown>,
  expectedStagingVersion?: number,
): Promise<number> {
  const cas = expectedStagingVersion ?? (await vault.metadata(stagingPath)).latestVersion;
  await vault.write(
    stagingPath,
    { ...data, rotor_rotation_id: rotationId, [VERSION_FIELD]: version },
    cas,
  );
  return version;
}

/**
 * Writes the value staged by `rotationId` as the consumer path's newest version, with
 * check-and-set on the version before the one planned at stage, so it lands as exactly that
 * version or not at all. Idempotent by rotation id: a retry finds its own write.
 */
export async function publishStaged(
  vault: Pick<VaultKv, 'read' | 'write'>,
  step: { vaultPath: string; stagingPath: string; rotationId: string; version: number },
): Promise<void> {
  // Both reads at once: whether a retry finds its own write already there, and the staged value.
  const [published, staged] = await Promise.all([
    isPublished(vault, step),
    readStaged(vault, step.stagingPath, step.rotationId),
  ]);
  if (published) return;
  if (staged?.version !== step.version) {
    throw ApplicationFailure.nonRetryable(
      `the staged value of rotation ${step.rotationId} is gone from ${step.stagingPath}; nothing to promote`,
      ErrorType.VerificationFailed,
    );
  }
  await vault.write(step.vaultPath, staged.data, step.version - 1);
}

/** Whether the consumer path's newest version is the value of `rotationId`. */
export async function isPublished(
  vault: Pick<VaultKv, 'read'>,
  step: { vaultPath: string; rotationId: string },
): Promise<boolean> {
  return (await vault.read(step.vaultPath))?.data.rotor_rotation_id === step.rotationId;
}
