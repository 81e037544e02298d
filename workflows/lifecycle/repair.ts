import { ActivityFailure, condition } from '@temporalio/workflow';
import { NotificationKind, RotationStatus, SecretState } from '../../domain';
import type { Requester } from '../messages';
import { runRepairStep } from '../rotation';
import type { LifecycleState, Repair, RepairStep } from '../state';
import { bookkeeping, msUntil, repairDelayMs } from './context';
import type { LifecycleContext } from './context';
import { notify } from './notify';
import { completeRotation } from './complete-rotation';
import { rotationTarget } from './rotate';

/**
 * NEEDS_ATTENTION (cause repair): a rotation that stopped half-way. Retry what it owes
 * (compensations, or the promote that rolls it forward) until Vault and the target agree again,
 * then say so.
 */
export async function repairRotation(
  ctx: LifecycleContext,
  st: LifecycleState,
  repair: Repair,
): Promise<void> {
  const seen = ctx.messages;
  await condition(
    () => ctx.messages !== seen || st.retireRequest !== null,
    msUntil(repair.nextAttemptAt),
  );
  if (st.retireRequest || Date.now() < Date.parse(repair.nextAttemptAt)) return;
  let previousVersion: number | null = null;
  let lastStep: RepairStep | null = null;
  try {
    while (repair.steps[0]) {
      lastStep = repair.steps[0];
      const done = await runRepairStep(
        rotationTarget(ctx, st, repair.stagedAside === true),
        repair.rotationId,
        repair.version,
        repair.steps[0],
      );
      previousVersion = done.previousVersion;
      // Consumers already read the new value: the only way to agree is forward.
      repair.steps = done.published ? ['promoteVersion'] : repair.steps.slice(1);
    }
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    repair.attempts += 1;
    repair.nextAttemptAt = new Date(
      Date.now() + repairDelayMs(st.policy, repair.attempts),
    ).toISOString();
    return;
  }
  st.repair = null;
  const request: Requester = { requestedBy: repair.requestedBy, reason: 'repair' };
  const rolledForward = lastStep === 'promoteVersion';
  if (rolledForward) {
    // The target already took the new credential: promoted, it is the rotation's success.
    st.needsAttention = false;
    st.attentionCause = null;
    await completeRotation(
      ctx,
      st,
      { ok: true, rotationId: repair.rotationId, version: repair.version, previousVersion },
      request,
      repair.expiresAt ?? null,
    );
    await notify(ctx, NotificationKind.RotationRepaired, ['ops', 'tenant'], {
      rotationId: repair.rotationId,
      version: repair.version,
    });
    return;
  }
  // Undone: the old credential works again; the failed rotation waits for a human (resume).
  st.attentionCause = 'rotation';
  await bookkeeping.finishRotation({
    rotationId: repair.rotationId,
    secretId: st.secretId,
    tenantId: ctx.input.tenantId,
    status: RotationStatus.Failed,
    secretState: SecretState.NeedsAttention,
    errorType: repair.errorType,
    nextRotationAt: st.nextRotationAt,
    actor: repair.requestedBy,
  });
  await notify(ctx, NotificationKind.RotationRepaired, ['ops', 'tenant'], {
    rotationId: repair.rotationId,
    errorType: repair.errorType,
    credentials: 'old-works',
  });
}
