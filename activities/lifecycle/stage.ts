import { ApplicationFailure } from '@temporalio/common';
import type { RequestOrigin, SecretType, TargetSpec } from '../../domain';
import { ErrorType, RotationStatus } from '../../domain';
import type { ActivityDeps } from '../deps';
import { activityLog } from '../log';
import { generateValue } from '../generate/generators';
import { stageFieldsFor } from '../targets/activities';
import { readStaged, writeStaged } from '../../vault';
import { recordRotationStep } from './record-step';
import { recordBegin } from './rotation-record';
import type { BeginRotationInput } from './rotation-record';
import { stagedProblem } from './verify';

export interface StageInput {
  rotationId: string;
  secretId: string;
  tenantId: string;
  vaultPath: string;
  type: SecretType;
  /** The newest KV version the workflow knows of; anything newer is someone else's write. */
  expectedLatestVersion: number;
  versionsKept: number;
  /** The secret's target, if any: it may add non-secret fields (the role) and a prefix. */
  target?: TargetSpec;
  /**
   * The consumer-safe layout: stage here, where consumers do not look, as the consumer version
   * the value becomes. Absent for rotations recorded before it, which stage on the consumer path.
   */
  stagingPath?: string;
  /**
   * Also verify the staged value (what verifyVersion does), in this one step. Only where the
   * value is checked straight after staging: the consumer-safe layout. A check that fails or
   * cannot run returns `verified: false`, and the workflow verifies (and compensates) as before.
   */
  verify?: boolean;
  /** Where the API request that asked for this rotation came from (none for a scheduled one). */
  origin?: RequestOrigin;
  /**
   * Begin the rotation here too (`fold-begin-next-v1`): its row and `rotation.requested`, what
   * beginRotation records, written beside the Vault work and before `rotation.staged`.
   */
  begin?: BeginRotationInput;
}

/**
 * Generates the new value here, inside the activity, and writes it to Vault as a new KV version
 * with check-and-set, labelled pending. Only the version number goes back to the workflow.
 * Idempotent by rotation id: a retry after a crash finds and reuses its own version.
 */
export function createStageVersion({ db, vault, targets }: ActivityDeps) {
  /** A fresh value (with the target's fields and prefix); only ever held inside this activity. */
  const freshValue = async (input: StageInput, current: number | undefined) => {
    const extra = input.target
      ? await stageFieldsFor({ vault, targets }, input.target, input.vaultPath, current)
      : { fields: {} };
    return { ...extra.fields, value: `${extra.prefix ?? ''}${generateValue(input.type)}` };
  };

  /** Consumer-safe layout: the value waits on the staging path; the consumer path is untouched. */
  const stageAside = async (input: StageInput, stagingPath: string): Promise<number> => {
    // Three independent reads in one round trip: this rotation's own earlier write (a retry),
    // the consumer path's newest version and labels, and the staging path's newest version for
    // the check-and-set (nothing of ours writes between these reads and that write).
    const [mine, meta, staging] = await Promise.all([
      readStaged(vault, stagingPath, input.rotationId),
      vault.metadata(input.vaultPath),
      vault.metadata(stagingPath),
    ]);
    if (mine) return mine.version;
    if (meta.latestVersion > input.expectedLatestVersion) {
      throw ApplicationFailure.nonRetryable(
        `Vault ${input.vaultPath} has version ${meta.latestVersion}, newer than the expected ${input.expectedLatestVersion}, written outside Rotor`,
        ErrorType.VaultVersionConflict,
      );
    }
    // Promote writes with check-and-set on the consumer's newest version, so this is the number
    // the value will have there; the target's records (API-key rows) use it from apply on.
    return writeStaged(
      vault,
      stagingPath,
      input.rotationId,
      meta.latestVersion + 1,
      await freshValue(input, meta.labels.current),
      staging.latestVersion,
    );
  };

  return async function stageVersion(
    input: StageInput,
  ): Promise<{ version: number; verified?: boolean; begun?: true }> {
    // The begin's rows and the Vault work are independent: side by side. Both finish before
    // `rotation.staged` is recorded, so the audit order is that of separate steps. A retry after
    // either failed writes nothing twice (both are idempotent by rotation id).
    const [version] = await Promise.all([
      input.stagingPath ? stageAside(input, input.stagingPath) : stageInPlace(input),
      input.begin ? recordBegin(db, input.begin) : Promise.resolve(),
    ]);
    const begun = input.begin ? { begun: true as const } : {};
    if (!input.verify || !input.stagingPath) {
      await recordStaged(input, version);
      return { version, ...begun };
    }
    // Verifying reads Vault, recording writes the engine database: side by side. A failed
    // record fails the step (its retry finds the staged value and records it once); a failed
    // verification only says so, as before.
    const [, verified] = await Promise.all([
      recordStaged(input, version),
      verifiedNow(input, input.stagingPath, version),
    ]);
    return { version, verified, ...begun };
  };

  /** verifyVersion's check, run here; false rather than a failure, so staging is never undone. */
  async function verifiedNow(input: StageInput, stagingPath: string, version: number) {
    try {
      const problem = await stagedProblem(vault, { ...input, stagingPath, version });
      if (problem) activityLog().warn('The staged version did not verify', { version });
      else activityLog().info('Verified the staged version', { version });
      return problem === null;
    } catch {
      activityLog().warn('Could not verify the staged version here', { version });
      return false;
    }
  }

  /** The layout before staging paths: the pending value is the consumer path's newest version. */
  async function stageInPlace(input: StageInput): Promise<number> {
    const meta = await vault.metadata(input.vaultPath);
    if (meta.labels.pendingRotationId === input.rotationId && meta.labels.pending) {
      return meta.labels.pending;
    }
    let version: number;
    if (meta.latestVersion > input.expectedLatestVersion) {
      // Either our own write whose labelling crashed, or a write from outside Rotor.
      const latest = await vault.read(input.vaultPath, meta.latestVersion);
      if (latest?.data.rotor_rotation_id !== input.rotationId) {
        throw ApplicationFailure.nonRetryable(
          `Vault ${input.vaultPath} has version ${meta.latestVersion}, newer than the expected ${input.expectedLatestVersion}, written outside this rotation`,
          ErrorType.VaultVersionConflict,
        );
      }
      version = latest.version;
    } else {
      version = await vault.write(
        input.vaultPath,
        { ...(await freshValue(input, meta.labels.current)), rotor_rotation_id: input.rotationId },
        meta.latestVersion,
      );
    }
    await vault.setLabels(
      input.vaultPath,
      { ...meta.labels, pending: version, pendingRotationId: input.rotationId },
      input.versionsKept,
    );
    return version;
  }

  async function recordStaged(input: StageInput, version: number): Promise<void> {
    await recordRotationStep(db, {
      rotationId: input.rotationId,
      secretId: input.secretId,
      tenantId: input.tenantId,
      status: RotationStatus.Staged,
      rotation: { to_version: version },
      secret: { pending_version: version, updated_at: new Date() },
      audit: {
        action: 'rotation.staged',
        outcome: 'success',
        details: { version },
        idempotencyKey: `${input.rotationId}:staged`,
        origin: input.origin,
      },
    });
    activityLog().info('Staged a new version in Vault', { version });
  }
}
