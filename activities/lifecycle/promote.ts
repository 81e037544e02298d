import { NotificationKind, RotationStatus, SecretState } from '../../domain';
import type { NotificationEvent, Policy, RequestOrigin } from '../../domain';
import { writeToOutbox } from '../notify/outbox';
import type { NotifierWakeups } from '../notify/wakeups';
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
  /**
   * With `finish`, also hand the tenant the "rotation completed" event (`promote-announces-v1`):
   * its outbox row in the same transaction, the notifier's wake-up after the commit. What the
   * lifecycle's own enqueue would write, with the grace end and next rotation of this transaction.
   */
  announce?: PromoteAnnounce;
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

export interface PromoteAnnounce {
  secretName: string;
  secretType: string;
  /** The lifecycle's workflow id, which the event names (never a value). */
  workflowId: string;
  /** How long the previous version stays valid: the event says when grace ends. */
  graceSeconds: number;
}

/**
 * The verified value becomes what consumers read: the consumer path's newest version, labelled
 * current, the old current labelled previous (still readable as the prior version through grace),
 * in Vault and in the engine database. Idempotent: promoting twice changes nothing.
 */
export function createPromoteVersion(
  { db, vault }: ActivityDeps,
  wakeups: () => Pick<NotifierWakeups, 'wake'>,
) {
  return async function promoteVersion(input: PromoteInput): Promise<{
    previousVersion: number | null;
    version: number;
    finished?: boolean;
    nextRotationAt?: string;
    /** The "rotation completed" event is in the outbox, with this grace end. */
    announced?: { graceEndsAt: string | null };
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
    // A retry after the records were written (its answer was lost) records the same moment again,
    // so the next rotation, the grace end and the event it announced agree with the first attempt.
    const earlier = alreadyPromoted
      ? await db
          .selectFrom('rotations')
          .select('promoted_at')
          .where('id', '=', input.rotationId)
          .executeTakeFirst()
      : undefined;
    const now = earlier?.promoted_at ?? new Date();
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
    const graceEndsAt =
      previousVersion === null || !input.announce
        ? null
        : new Date(now.getTime() + input.announce.graceSeconds * 1000).toISOString();
    const announced =
      finished && input.announce
        ? completedEvent(input, input.announce, { previousVersion, graceEndsAt, next, now })
        : null;
    await recordRotationSteps(
      db,
      finished ? [promoted, finished] : [promoted],
      announced
        ? (trx) => writeToOutbox(trx, `rotation/${input.rotationId}/completed`, announced)
        : undefined,
    );
    // Never throws: a wake-up that cannot be sent is owed, and retried in the background.
    if (announced) void wakeups().wake(input.tenantId);
    activityLog().info('Promoted the staged version to current', {
      version: input.version,
      previousVersion,
    });
    if (finished) activityLog().info('Rotation finished', { status: finished.status });
    return {
      previousVersion,
      version: input.version,
      ...(finished && next !== null ? { finished: true, nextRotationAt: next } : {}),
      ...(announced ? { announced: { graceEndsAt } } : {}),
    };
  };
}

/** The event the lifecycle's notify(RotationCompleted) would hand over, as of this promote. */
function completedEvent(
  input: PromoteInput,
  announce: PromoteAnnounce,
  at: {
    previousVersion: number | null;
    graceEndsAt: string | null;
    next: string | null;
    now: Date;
  },
): NotificationEvent {
  return {
    kind: NotificationKind.RotationCompleted,
    audience: 'tenant',
    tenantId: input.tenantId,
    secretName: announce.secretName,
    secretType: announce.secretType,
    workflowId: announce.workflowId,
    at: at.now.toISOString(),
    rotationId: input.rotationId,
    version: input.version,
    previousVersion: at.previousVersion,
    graceEndsAt: at.graceEndsAt,
    nextRotationAt: at.next,
  };
}
