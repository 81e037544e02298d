import type { Requester, SecretStatus } from '../messages';
import type { LifecycleContext } from './context';

/** A rotate-now request waits for grace to end (break-glass does not). */
export function graceWaitEndsAt(ctx: LifecycleContext): string | null {
  const s = ctx.s;
  return s?.graceEndsAt && s.previousVersion !== null ? s.graceEndsAt : null;
}

/** The rotate request waiting to start, wherever it is kept before and after provisioning. */
export function pendingRotate(ctx: LifecycleContext): Requester | null {
  return ctx.s ? ctx.s.rotateRequest : ctx.early.rotate;
}

/** The answer to the status query, and the workflow's result once retired. */
export function statusOf(ctx: LifecycleContext): SecretStatus {
  const { s, approval, supply } = ctx;
  const queued = pendingRotate(ctx);
  return {
    tenantId: ctx.input.tenantId,
    name: ctx.input.name,
    type: ctx.input.type,
    state: ctx.state,
    secretId: s?.secretId ?? null,
    currentVersion: s?.currentVersion ?? null,
    previousVersion: s?.previousVersion ?? null,
    nextRotationAt: s?.nextRotationAt ?? null,
    graceEndsAt: s?.graceEndsAt ?? null,
    lastErrorType: s?.lastErrorType ?? null,
    rotationsCompleted: s?.rotationsCompleted ?? 0,
    pendingApproval: approval.pending
      ? { ...approval.pending, approvals: [...approval.pending.approvals] }
      : null,
    paused: s?.paused ?? ctx.early.paused,
    pendingSupply: supply.pending ? { ...supply.pending } : null,
    rotationId: ctx.running?.rotationId ?? null,
    waitingForWindow: ctx.window.waiting ? { ...ctx.window.waiting } : null,
    queuedRotation: queued?.rotationId
      ? { rotationId: queued.rotationId, startsAfter: graceWaitEndsAt(ctx) }
      : null,
    previousCredentialLive: (s?.previousVersion ?? null) !== null,
    revokeRetryAt: s?.revokeRetryAt ?? null,
    repair: s?.repair
      ? {
          rotationId: s.repair.rotationId,
          steps: [...s.repair.steps],
          attempts: s.repair.attempts,
          nextAttemptAt: s.repair.nextAttemptAt,
        }
      : null,
  };
}
