import { NotificationKind, RotationStatus, SecretState, supplyPolicy } from '../../domain';
import type { Requester } from '../messages';
import type { RotationOutcome } from '../rotation';
import type { LifecycleState } from '../state';
import { bookkeeping, setNextRotation, setState } from './context';
import type { LifecycleContext } from './context';
import { notify } from './notify';

/** A promoted rotation: versions move on, grace starts, the next rotation is scheduled. */
export async function completeRotation(
  ctx: LifecycleContext,
  target: LifecycleState,
  outcome: Extract<RotationOutcome, { ok: true }>,
  request: Requester,
  expiresAt: string | null,
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
  target.graceEndsAt =
    outcome.previousVersion === null
      ? null
      : new Date(Date.now() + target.policy.graceSeconds * 1000).toISOString();
  setNextRotation(ctx, await bookkeeping.computeNextRotation({ policy: target.policy, from: now }));
  if (expiresAt) {
    // A certificate is renewed a lead time before it expires, whatever the interval says.
    const lead = supplyPolicy(target.policy).expiryLeadSeconds * 1000;
    setNextRotation(
      ctx,
      new Date(Math.max(Date.now(), Date.parse(expiresAt) - lead)).toISOString(),
    );
  }
  const next = target.graceEndsAt ? SecretState.InGrace : SecretState.Active;
  setState(ctx, next);
  await bookkeeping.finishRotation({
    ...ids,
    status: RotationStatus.Completed,
    secretState: next,
    toVersion: outcome.version,
    nextRotationAt: target.nextRotationAt,
    actor: request.requestedBy,
  });
  await notify(ctx, NotificationKind.RotationCompleted, ['tenant'], {
    rotationId: outcome.rotationId,
    version: outcome.version,
    previousVersion: outcome.previousVersion,
    graceEndsAt: target.graceEndsAt,
    nextRotationAt: target.nextRotationAt,
  });
}
