import { RotationStatus, SecretState } from '../../domain';
import type { Policy, RequestOrigin } from '../../domain';
import { nextRotationAt } from '../../schedule';
import type { ActivityDeps } from '../deps';
import { activityLog } from '../log';
import { publishStaged } from '../../vault';
import { recordRotationSteps } from './record-step';
import type { RotationStep } from './record-step';
import { finishStep } from './rotation-record';

export interface PromoteInput {
  rotationId: string;
  secretId: string;
  tenantId: string;
  vaultPath: string;
  version: number;
  /**
   * The consumer-safe layout's staging path: the verified value is copied from there to the
   * consumer path as its newest version. Absent for rotations staged on the consumer path itself.
   */
  stagingPath?: string;
  /** KV versions the consumer path keeps (its max_versions). */
  versionsKept?: number;
  /**
   * Finish the rotation in the same transaction as the promote: COMPLETED, the secret IN_GRACE
   * (ACTIVE when nothing was current before), and the next rotation the workflow computed.
   * Absent, the workflow finishes it with finishRotation.
   */
  finish?: PromoteFinish;
  /** Where the API request that asked for this rotation came from (none for a scheduled one). */
  origin?: RequestOrigin;
}

/**
 * How promote finishes the rotation: with the next rotation the workflow computed, or
 * (`fold-begin-next-v1`) computing it here from the policy, as computeNextRotation would, at
 * the moment the rotation completes.
 */
export type PromoteFinish = { actor: string } & (
  { nextRotationAt: string } | { nextRotationFor: Policy }
);

/**
 * The verified value becomes what consumers read: the consumer path's newest version, labelled
 * current, the old current labelled previous (still readable as the prior version through grace),
 * in Vault and in the engine database. Idempotent: promoting twice changes nothing.
 */
export function createPromoteVersion({ db, vault }: ActivityDeps) {
  return async function promoteVersion(input: PromoteInput): Promise<{
    previousVersion: number | null;
    version: number;
    finished?: boolean;
    nextRotationAt?: string;
  }> {
    // Consumers read the newest version: the value is written there first, labels follow. The
    // labels are read beside the publish (a data write leaves labels as they are).
    const [, meta] = await Promise.all([
      input.stagingPath
        ? publishStaged(vault, { ...input, stagingPath: input.stagingPath })
        : Promise.resolve(),
      vault.metadata(input.vaultPath),
    ]);
    const alreadyPromoted = meta.labels.current === input.version;
    const previousVersion = (alreadyPromoted ? meta.labels.previous : meta.labels.current) ?? null;
    // Labelling the consumer path and emptying staging (it holds nothing once the value is
    // published) are independent: side by side. A retry after either failed finds the value
    // published and needs nothing from staging.
    await Promise.all([
      alreadyPromoted
        ? Promise.resolve()
        : vault.setLabels(
            input.vaultPath,
            { current: input.version, previous: previousVersion ?? undefined },
            input.stagingPath ? input.versionsKept : undefined,
          ),
      input.stagingPath ? vault.deleteAll(input.stagingPath) : Promise.resolve(),
    ]);
    const now = new Date();
    const next = input.finish
      ? 'nextRotationAt' in input.finish
        ? input.finish.nextRotationAt
        : nextRotationAt(input.finish.nextRotationFor, now).toISOString()
      : null;
    const promoted: RotationStep = {
      rotationId: input.rotationId,
      secretId: input.secretId,
      tenantId: input.tenantId,
      status: RotationStatus.Promoted,
      // Kept when the same transaction finishes the rotation: its status then never reads PROMOTED.
      rotation: { promoted_at: now },
      secret: {
        current_version: input.version,
        previous_version: previousVersion,
        pending_version: null,
        last_rotated_at: now,
        updated_at: now,
      },
      audit: {
        action: 'rotation.promoted',
        outcome: 'success',
        details: { version: input.version, previousVersion },
        idempotencyKey: `${input.rotationId}:promoted`,
        origin: input.origin,
      },
    };
    const finished = input.finish
      ? finishStep(
          {
            rotationId: input.rotationId,
            secretId: input.secretId,
            tenantId: input.tenantId,
            status: RotationStatus.Completed,
            // What the workflow's completeRotation decides too: grace only if something was current.
            secretState: previousVersion === null ? SecretState.Active : SecretState.InGrace,
            toVersion: input.version,
            nextRotationAt: next,
            actor: input.finish.actor,
            origin: input.origin,
          },
          now,
        )
      : null;
    await recordRotationSteps(db, finished ? [promoted, finished] : [promoted]);
    activityLog().info('Promoted the staged version to current', {
      version: input.version,
      previousVersion,
    });
    if (finished) activityLog().info('Rotation finished', { status: finished.status });
    return {
      previousVersion,
      version: input.version,
      ...(finished && next !== null ? { finished: true, nextRotationAt: next } : {}),
    };
  };
}
