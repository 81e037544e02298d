import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { FailedStep, Policy, RequestOrigin, SecretType, TargetSpec } from '../domain';
import { rotationActivities } from './activity-options';
import type { BeginRotationInput } from '../activities/lifecycle/rotation-record';
import type { PromoteAnnounce, PromoteFinish } from '../activities/lifecycle/promote';
import type { RepairStep } from './state';

export interface RotationTarget {
  secretId: string;
  tenantId: string;
  type: SecretType;
  vaultPath: string;
  policy: Policy;
  /** The check-and-set base: the newest KV version written so far. */
  latestVersion: number;
  currentVersion: number | null;
  /** Where the value must also be accepted (a PostgreSQL role, the API-key registry). */
  spec?: TargetSpec;
  /** A value its owner supplied, already written to Vault as this pending version. */
  supplied?: { version: number };
  /**
   * The consumer-safe layout: pending values wait here and promote copies the verified one to
   * `vaultPath`, so consumers only ever read promoted values. Absent for rotations recorded before.
   */
  stagingPath?: string;
  /**
   * Where the API request that asked for this rotation came from, for the audit rows its steps
   * write. Absent for scheduled rotations and repairs. Not secret; an activity input only.
   */
  origin?: RequestOrigin;
}

/**
 * The fewer-round-trips path (patch `fewer-round-trips-v1` in lifecycle/rotate.ts): staging also
 * verifies, apply also verifies at the target, and promote also finishes the rotation, in one
 * transaction with its audit row, as `finish` says.
 */
export interface RotationPlan {
  /** Absent `nextRotationAt`, promote computes it from the policy (`fold-begin-next-v1`). */
  finish: { actor: string; nextRotationAt?: string };
  /** Stage also begins the rotation (`fold-begin-next-v1`): its row and `rotation.requested`. */
  begin?: BeginRotationInput;
  /** Promote also hands over the "rotation completed" event (`promote-announces-v1`). */
  announce?: PromoteAnnounce;
}

export type RotationOutcome =
  | {
      ok: true;
      rotationId: string;
      version: number;
      previousVersion: number | null;
      /** Promote also finished the rotation (COMPLETED, state, next rotation, audit row). */
      finished?: boolean;
      /** The next rotation promote recorded as it finished (absent from older workers). */
      nextRotationAt?: string;
      /** Stage also began the rotation (absent from older workers, and where not asked to). */
      begun?: boolean;
      /** Promote also handed over the "rotation completed" event, with this grace end. */
      announced?: { graceEndsAt: string | null };
    }
  | {
      ok: false;
      rotationId: string;
      errorType: string;
      /** The step that failed (absent where the failure cannot say). */
      failedStep?: FailedStep;
      /** The privilege the target refused the rotator for, when that was the failure. */
      missingPrivilege?: string;
      latestVersion: number;
      /**
       * Steps still owed when the rotation could not be put right at once (a compensation or a
       * promote failed too): the lifecycle retries them until Vault and the target agree.
       */
      unresolved?: { version: number; steps: RepairStep[] };
    };

/**
 * One rotation, once its row exists and any approval is given: stage → apply → verify → promote. A failure after staging runs the compensations
 * in reverse (discard the pending version), so the old credential keeps working. Each attempt
 * has a fresh rotation id, so a retried rotation generates a fresh value.
 */
export async function runRotation(
  target: RotationTarget,
  rotationId: string,
  plan: RotationPlan | null = null,
): Promise<RotationOutcome> {
  const acts = rotationActivities(target.policy);
  const ids = {
    rotationId,
    secretId: target.secretId,
    tenantId: target.tenantId,
    ...(target.origin ? { origin: target.origin } : {}),
  };
  const aside = target.stagingPath ? { stagingPath: target.stagingPath } : {};
  let latestVersion = target.latestVersion;
  // Compensations, newest first, by name: a compensation that fails is owed, and retried later.
  const compensations: RepairStep[] = [];
  let staged: number | null = null;
  let begun = false;

  try {
    // Supplied values were staged by the API; generated ones are made and staged here.
    const stage: { version: number; verified?: boolean; begun?: boolean } =
      target.supplied ??
      (await acts.stageVersion({
        ...ids,
        vaultPath: target.vaultPath,
        type: target.type,
        expectedLatestVersion: target.latestVersion,
        versionsKept: target.policy.versionsKept,
        ...(target.spec ? { target: target.spec } : {}),
        ...aside,
        // Staged aside, verification comes straight after staging: one step can do both.
        ...(plan && target.stagingPath ? { verify: true } : {}),
        ...(plan?.begin ? { begin: plan.begin } : {}),
      }));
    begun = stage.begun === true;
    const { version } = stage;
    // Staged aside, the consumer path has no new version until promote.
    if (!target.stagingPath) latestVersion = version;
    staged = version;
    compensations.unshift('discardPendingVersion');
    // apply: secrets without an external target live in Vault alone. Secrets without a target
    // schedule no commands here, so their recorded histories replay unchanged.
    const verifyStaged = () =>
      acts.verifyVersion({ rotationId, vaultPath: target.vaultPath, version, ...aside });
    // Staged aside, the value is checked before apply, so that apply, verify and promote run
    // back to back: for a single role, that is the window in which consumers hold a password
    // the target no longer takes.
    if (target.stagingPath && stage.verified !== true) await verifyStaged();
    if (target.spec) {
      const step = { ...ids, vaultPath: target.vaultPath, target: target.spec, version, ...aside };
      // Registered before apply runs: an apply that half-happened is undone as well.
      compensations.unshift('compensateTarget');
      // Where apply stops the old credential working, it also verified and published the new
      // one (older histories return nothing here): verifying again would only widen the window.
      // On the plan, apply verifies at the target too: the compensations are the same for both.
      const applied = await acts.applyTarget({ ...step, ...(plan ? { verify: true } : {}) });
      if (!applied?.published && applied?.verified !== true) await acts.verifyTarget(step);
    }
    if (!target.stagingPath) await verifyStaged();
  } catch (err) {
    const errorType = errorTypeOf(err);
    const failed = {
      ok: false as const,
      rotationId,
      errorType,
      latestVersion,
      ...failureFacts(err),
    };
    if (staged === null) return failed;
    for (const [i, step] of compensations.entries()) {
      try {
        const { published } = await runRepairStep(target, rotationId, staged, step);
        // Consumers already read the new value: undoing would break them, so roll forward.
        if (published) {
          return promoteOrOwe(target, rotationId, staged, failed, latestVersion, plan, begun);
        }
      } catch (compensationError) {
        // The rotation failed and could not be undone yet: what is owed is retried until it works.
        errorTypeOf(compensationError);
        return { ...failed, unresolved: { version: staged, steps: compensations.slice(i) } };
      }
    }
    return failed;
  }
  // Past verification the target accepts the new value (a single role no longer accepts the old
  // one), so the only way to agree again is forward: promote is retried, never compensated.
  return promoteOrOwe(target, rotationId, staged, null, latestVersion, plan, begun);
}

/** Promote; if it fails, the promote is owed (retried by the lifecycle until it works). */
async function promoteOrOwe(
  target: RotationTarget,
  rotationId: string,
  version: number,
  earlier: { errorType: string; failedStep?: FailedStep; missingPrivilege?: string } | null,
  latestVersion: number,
  plan: RotationPlan | null,
  begun: boolean,
): Promise<RotationOutcome> {
  try {
    const { previousVersion, finished, nextRotationAt, announced } = await runRepairStep(
      target,
      rotationId,
      version,
      'promoteVersion',
      plan?.finish,
      plan?.announce,
    );
    return {
      ok: true,
      rotationId,
      version,
      previousVersion,
      ...(finished ? { finished } : {}),
      ...(nextRotationAt !== undefined ? { nextRotationAt } : {}),
      ...(begun ? { begun } : {}),
      ...(announced ? { announced } : {}),
    };
  } catch (err) {
    return {
      ok: false,
      rotationId,
      ...(earlier ?? { errorType: errorTypeOf(err), failedStep: 'promote' as const }),
      latestVersion,
      unresolved: { version, steps: ['promoteVersion'] },
    };
  }
}

/**
 * One step owed by a rotation (a compensation, or the promote that rolls it forward); each is
 * idempotent by rotation id. Returns promote's previous version, null for the others. `finish`
 * has promote finish the rotation too (see RotationPlan).
 */
export async function runRepairStep(
  target: RotationTarget,
  rotationId: string,
  version: number,
  step: RepairStep,
  finish?: RotationPlan['finish'],
  announce?: PromoteAnnounce,
): Promise<{
  previousVersion: number | null;
  published?: boolean;
  finished?: boolean;
  nextRotationAt?: string;
  announced?: { graceEndsAt: string | null };
}> {
  const acts = rotationActivities(target.policy);
  const ids = {
    rotationId,
    secretId: target.secretId,
    tenantId: target.tenantId,
    ...(target.origin ? { origin: target.origin } : {}),
  };
  const at = {
    ...ids,
    vaultPath: target.vaultPath,
    version,
    ...(target.stagingPath ? { stagingPath: target.stagingPath } : {}),
  };
  switch (step) {
    case 'compensateTarget': {
      if (!target.spec) return { previousVersion: null };
      const undone = await acts.compensateTarget({ ...at, target: target.spec });
      // Older histories return nothing: their compensation always undid.
      return { previousVersion: null, published: undone?.published === true };
    }
    case 'discardPendingVersion':
      await acts.discardPendingVersion(at);
      return { previousVersion: null };
    case 'promoteVersion':
      return acts.promoteVersion({
        ...at,
        ...(target.stagingPath ? { versionsKept: target.policy.versionsKept } : {}),
        ...(finish ? { finish: promoteFinish(finish, target.policy) } : {}),
        ...(finish && announce ? { announce } : {}),
      });
  }
}

/** What promote finishes with: the planned next rotation, or the policy to compute it from. */
function promoteFinish(finish: RotationPlan['finish'], policy: Policy): PromoteFinish {
  return finish.nextRotationAt === undefined
    ? { actor: finish.actor, nextRotationFor: policy }
    : { nextRotationAt: finish.nextRotationAt, actor: finish.actor };
}

/** The failure's type, for the rotation row and alerts. Anything but an activity failure is a bug. */
export function errorTypeOf(err: unknown): string {
  if (err instanceof ActivityFailure) {
    if (err.cause instanceof ApplicationFailure) return err.cause.type ?? 'ApplicationFailure';
    if (err.cause instanceof TimeoutFailure) return 'ActivityTimeout';
    return 'ActivityFailure';
  }
  throw err;
}

/** Which activity each rotation step runs as (the Vault check of a staged value is verify). */
const STEP_OF_ACTIVITY: Record<string, FailedStep> = {
  stageVersion: 'stage',
  verifyVersion: 'verify',
  applyTarget: 'apply',
  verifyTarget: 'verify',
  promoteVersion: 'promote',
  revokeVersion: 'revoke',
};

/**
 * What a failed activity says about itself: the step it was at, and the privilege the target
 * refused, if that was it (both empty if unknown). An activity doing two steps (apply that also
 * verifies) names the one that failed in the failure's details, as a driver names a privilege.
 */
export function failureFacts(err: unknown): { failedStep?: FailedStep; missingPrivilege?: string } {
  if (!(err instanceof ActivityFailure)) return {};
  const detail = (err.cause instanceof ApplicationFailure ? err.cause.details?.[0] : undefined) as
    { step?: unknown; missingPrivilege?: unknown } | null | undefined;
  const step = detail?.step === 'verify' ? 'verify' : STEP_OF_ACTIVITY[err.activityType ?? ''];
  const privilege = detail?.missingPrivilege;
  return {
    ...(step ? { failedStep: step } : {}),
    ...(typeof privilege === 'string' && privilege.length <= 64
      ? { missingPrivilege: privilege }
      : {}),
  };
}
