import { NotificationKind, RotationStatus, SecretState, supplyPolicy } from '../../domain';
import type { BeginRotationInput } from '../../activities/lifecycle/rotation-record';
import type { Requester } from '../messages';
import type { RotationOutcome } from '../rotation';
import type { LifecycleState } from '../state';
import {
  bookkeeping,
  localBookkeeping,
  setNextRotation,
  setState,
  setStateAndNextRotation,
} from './context';
import type { LifecycleContext } from './context';
import { notify } from './notify';

/**
 * When the rotation about to run should be followed by the next, computed before it runs (the
 * fewer-round-trips path), so promote can record it as it finishes the rotation. A certificate is
 * renewed a lead time before it expires, whatever the interval says.
 */
export async function plannedNextRotation(
  target: LifecycleState,
  expiresAt: string | null,
): Promise<string> {
  if (expiresAt) {
    const lead = supplyPolicy(target.policy).expiryLeadSeconds * 1000;
    return new Date(Math.max(Date.now(), Date.parse(expiresAt) - lead)).toISOString();
  }
  return localBookkeeping.computeNextRotation({
    policy: target.policy,
    from: new Date().toISOString(),
  });
}

/**
 * How the rotation was planned: nothing (every step its own activity), the next rotation computed
 * before it ran (`fewer-round-trips-v1`), or begun in its stage with the next rotation left to
 * promote (`fold-begin-next-v1`, with the begin in case a finish must record it).
 */
export type CompletionPlan = string | { folded: BeginRotationInput } | null;

/**
 * A promoted rotation: versions move on, grace starts, the next rotation is scheduled. With a
 * plan (the fewer-round-trips path) promote has usually finished the rotation's records as well.
 */
export async function completeRotation(
  ctx: LifecycleContext,
  target: LifecycleState,
  outcome: Extract<RotationOutcome, { ok: true }>,
  request: Requester,
  expiresAt: string | null,
  plan: CompletionPlan = null,
): Promise<void> {
  const now = new Date().toISOString();
  const ids = {
    rotationId: outcome.rotationId,
    secretId: target.secretId,
    tenantId: ctx.input.tenantId,
  };
  target.latestVersion = Math.max(target.latestVersion, outcome.version);
  target.currentVersion = outcome.version;
  target.previousVersion = outcome.previousVersion;
  target.lastRotatedAt = now;
  target.lastErrorType = null;
  target.needsAttention = false;
  target.attentionCause = null;
  target.rotationsCompleted += 1;
  // Where promote announced the rotation, its grace end is the one the tenant was told.
  target.graceEndsAt = outcome.announced
    ? outcome.announced.graceEndsAt
    : outcome.previousVersion === null
      ? null
      : new Date(Date.now() + target.policy.graceSeconds * 1000).toISOString();
  const next = target.graceEndsAt ? SecretState.InGrace : SecretState.Active;
  if (plan !== null) {
    const folded = typeof plan === 'string' ? null : plan.folded;
    // Folded, promote computed the next rotation; a promote from an older worker did not.
    const plannedNext =
      typeof plan === 'string'
        ? plan
        : (outcome.nextRotationAt ?? (await plannedNextRotation(target, expiresAt)));
    setStateAndNextRotation(ctx, next, plannedNext);
    // A promote that ran on a worker from before `finish` recorded only the promote; one from
    // before the fold recorded no next rotation, and a stage from before it no begin.
    const recorded = folded
      ? outcome.finished && outcome.nextRotationAt !== undefined && outcome.begun
      : outcome.finished;
    if (!recorded) {
      await localBookkeeping.finishRotation({
        ...ids,
        status: RotationStatus.Completed,
        secretState: next,
        toVersion: outcome.version,
        nextRotationAt: target.nextRotationAt,
        actor: request.requestedBy,
        ...(request.origin ? { origin: request.origin } : {}),
        ...(folded ? { begin: folded } : {}),
      });
    }
  } else {
    setNextRotation(
      ctx,
      await bookkeeping.computeNextRotation({ policy: target.policy, from: now }),
    );
    if (expiresAt) {
      // A certificate is renewed a lead time before it expires, whatever the interval says.
      const lead = supplyPolicy(target.policy).expiryLeadSeconds * 1000;
      setNextRotation(
        ctx,
        new Date(Math.max(Date.now(), Date.parse(expiresAt) - lead)).toISOString(),
      );
    }
    setState(ctx, next);
    await bookkeeping.finishRotation({
      ...ids,
      status: RotationStatus.Completed,
      secretState: next,
      toVersion: outcome.version,
      nextRotationAt: target.nextRotationAt,
      actor: request.requestedBy,
      ...(request.origin ? { origin: request.origin } : {}),
    });
  }
  // Promote has already handed the event over (promote-announces-v1).
  if (outcome.announced) return;
  await notify(ctx, NotificationKind.RotationCompleted, ['tenant'], {
    rotationId: outcome.rotationId,
    version: outcome.version,
    previousVersion: outcome.previousVersion,
    graceEndsAt: target.graceEndsAt,
    nextRotationAt: target.nextRotationAt,
  });
}
