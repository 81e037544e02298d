import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { NotificationKind, SecretState } from '../../domain';
import { rotationActivities } from '../activity-options';
import { errorTypeOf, failureFacts } from '../rotation';
import type { LifecycleState } from '../state';
import { enterAttention } from './attention';
import {
  bookkeeping,
  msUntil,
  recordState,
  repairDelayMs,
  setNextRotation,
  setState,
} from './context';
import type { LifecycleContext, LifecycleWorkflow } from './context';
import { notify, upcomingNoticeAt } from './notify';
import { repairRotation } from './repair';
import { rotate } from './rotate';

/**
 * Owed steps (a revocation, a repair) are retried for as long as it takes, each retry adding to
 * the run's history: the run continues as new when the server suggests it, as the waits below
 * do, or a step owed for months outgrows the server's history limit and the server ends the
 * lifecycle. Asked only when suggested, so recorded histories (never suggested) replay unchanged.
 */
const OWED_CONTINUE_PATCH = 'continue-as-new-while-owed-v1';

/** A scheduled rotation waits for the maintenance window, however late it starts (pause, grace). */
const SCHEDULE = { requestedBy: 'rotor-schedule', reason: 'scheduled', inWindow: true } as const;

/**
 * One turn of the main loop: policy, owed repairs, grace and revoke, then wait or rotate.
 * ACTIVE, PAUSED and IN_GRACE are waits here; ROTATING starts here.
 */
export async function lifecycleStep(
  ctx: LifecycleContext,
  st: LifecycleState,
): Promise<'retire' | 'again'> {
  const { input } = ctx;
  if (ctx.policyUpdate) {
    const update: NonNullable<LifecycleContext['policyUpdate']> = ctx.policyUpdate;
    ctx.policyUpdate = null;
    st.policy = update.policy;
    setNextRotation(
      ctx,
      await bookkeeping.computeNextRotation({
        policy: st.policy,
        from: st.lastRotatedAt ?? new Date().toISOString(),
      }),
    );
    await recordState(ctx, ctx.state, 'policy.updated', update.requestedBy, {
      policy: st.policy,
      ...(update.origin ? { origin: update.origin } : {}),
    });
  }

  const owed = st.repair != null || st.revokeRetryAt != null;
  if (
    owed &&
    !st.retireRequest &&
    workflowInfo().continueAsNewSuggested &&
    patched(OWED_CONTINUE_PATCH)
  ) {
    await condition(allHandlersFinished);
    await continueAsNew<LifecycleWorkflow>({ ...input, carried: st });
  }

  if (st.repair && !st.retireRequest) {
    await repairRotation(ctx, st, st.repair);
    return 'again';
  }

  // Grace: the previous credential stays valid until graceEndsAt, then it is revoked.
  if (st.graceEndsAt && st.previousVersion !== null && !st.retireRequest) {
    const previous = st.previousVersion;
    const retryAt = st.revokeRetryAt ?? null;
    const seen = ctx.messages;
    // Break-glass ends grace early: the previous credential is revoked before rotating again,
    // so never more than two are live. While a failed revoke waits to be retried, any message
    // (a resume retries at once) wakes it to look again.
    await condition(
      () =>
        st.retireRequest !== null ||
        (retryAt === null && st.rotateRequest?.breakGlass === true) ||
        (retryAt !== null && ctx.messages !== seen),
      msUntil(retryAt ?? st.graceEndsAt),
    );
    if (st.revokeRetryAt && Date.now() < Date.parse(st.revokeRetryAt) && !st.retireRequest) {
      return 'again';
    }
    try {
      // Retried up to the policy's limit, as a rotation's steps are, then on the lifecycle's own
      // schedule (revokeRetryAt): an outage is reported after a few attempts, not many minutes.
      await rotationActivities(st.policy).revokeVersion({
        rotationId: uuid4(),
        secretId: st.secretId,
        tenantId: input.tenantId,
        vaultPath: input.vaultPath,
        version: previous,
        ...(input.target ? { target: input.target } : {}),
      });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      if (st.retireRequest) return 'retire'; // Retiring revokes everything anyway.
      // The previous credential is still live: say so, and try again on a schedule of its own.
      const attempts = (st.revokeAttempts ?? 0) + 1;
      st.revokeAttempts = attempts;
      st.revokeRetryAt = new Date(
        Date.now() + repairDelayMs(st.policy, attempts - 1),
      ).toISOString();
      if (attempts === 1 || st.attentionCause !== 'revoke') {
        await enterAttention(ctx, st, 'revoke', errorTypeOf(err), 'previous-live', undefined, {
          step: 'revoke',
          ...failureFacts(err),
        });
      }
      return 'again';
    }
    const repaired = st.revokeRetryAt != null;
    st.previousVersion = null;
    st.graceEndsAt = null;
    st.revokeAttempts = 0;
    st.revokeRetryAt = null;
    await notify(ctx, NotificationKind.CredentialRevoked, ['tenant'], { version: previous });
    if (repaired && st.attentionCause === 'revoke') {
      st.needsAttention = false;
      st.attentionCause = null;
      st.lastErrorType = null;
      await notify(ctx, NotificationKind.RotationRepaired, ['ops', 'tenant'], {
        version: previous,
      });
    }
    if (!st.retireRequest) {
      await recordState(
        ctx,
        st.needsAttention
          ? SecretState.NeedsAttention
          : st.paused
            ? SecretState.Paused
            : SecretState.Active,
        'grace.ended',
        'rotor',
      );
      // A full cycle is done: start a fresh run with a short history.
      await condition(allHandlersFinished);
      await continueAsNew<LifecycleWorkflow>({ ...input, carried: st });
    }
  }

  if (st.retireRequest) return 'retire';
  if (workflowInfo().continueAsNewSuggested) {
    await condition(allHandlersFinished);
    await continueAsNew<LifecycleWorkflow>({ ...input, carried: st });
  }

  // Wait for the due time, a rotate request, or any message that changes what to do.
  const canRotate = (!st.paused && !st.needsAttention) || st.rotateRequest?.breakGlass === true;
  const due =
    canRotate && (st.rotateRequest !== null || Date.now() >= Date.parse(st.nextRotationAt));
  if (!due) {
    const noticeAt = upcomingNoticeAt(st);
    if (noticeAt !== null && Date.now() >= noticeAt) {
      st.upcomingNoticeFor = st.nextRotationAt;
      await notify(ctx, NotificationKind.RotationUpcoming, ['tenant'], {
        nextRotationAt: st.nextRotationAt,
      });
      return 'again';
    }
    const seen = ctx.messages;
    // The request's origin is an activity input only: the same commands as before.
    const origin = ctx.pauseOrigin ? { origin: ctx.pauseOrigin } : {};
    if (st.paused && ctx.state !== SecretState.Paused)
      await recordState(ctx, SecretState.Paused, 'secret.paused', 'api', origin);
    if (!st.paused && ctx.state === SecretState.Paused)
      await recordState(ctx, SecretState.Active, 'secret.resumed', 'api', origin);
    if (st.needsAttention || st.paused) await condition(() => ctx.messages !== seen);
    else {
      const wakeAt = Math.min(Date.parse(st.nextRotationAt), noticeAt ?? Infinity);
      await condition(() => ctx.messages !== seen, Math.max(1, wakeAt - Date.now()));
    }
    return 'again';
  }

  const request = st.rotateRequest ?? SCHEDULE;
  st.rotateRequest = null;
  setState(ctx, SecretState.Rotating);
  await rotate(ctx, st, request);
  return 'again';
}
