/** The inbox: every signal, update and query handler of the lifecycle. */
import {
  ApplicationFailure,
  currentUpdateInfo,
  log,
  patched,
  setHandler,
  uuid4,
} from '@temporalio/workflow';
import { ErrorType, NotificationKind } from '../../domain';
import { checkBreakGlass, checkDecision } from '../approval-rules';
import {
  isPolicyInRange,
  isValidPolicyUpdate,
  isValidRequester,
  refuseRotation,
} from '../message-rules';
import {
  approveUpdate,
  breakGlassUpdate,
  pauseSignal,
  rejectUpdate,
  requestRotationUpdate,
  resumeSignal,
  retireSignal,
  rotateNowSignal,
  statusQuery,
  supplyValueUpdate,
  updatePolicySignal,
} from '../messages';
import type {
  ApproveRequest,
  DecisionResult,
  PendingApproval,
  RejectRequest,
  Requester,
  RotateAnswer,
  RotateRequest,
  SupplyRequest,
} from '../messages';
import { bookkeeping } from './context';
import type { LifecycleContext } from './context';
import { notify } from './notify';
import { windowOpensAt } from './await-window';
import { graceWaitEndsAt, pendingRotate, statusOf } from './status';

/** Queues a rotate request where it will be read: the carried state, or before provisioning. */
function setRotateRequest(ctx: LifecycleContext, request: Requester): void {
  if (ctx.s) ctx.s.rotateRequest = request;
  else ctx.early.rotate = request;
}

/**
 * When a rotation asked for the window can start: the window's first opening after `after` (or
 * now); null when that is now.
 */
function windowStartsAt(ctx: LifecycleContext, after: string | null): string | null {
  const now = Date.now();
  const from = Math.max(now, after ? Date.parse(after) : now);
  const opensAt = windowOpensAt(ctx.s?.policy ?? ctx.input.policy, from);
  return opensAt > now ? new Date(opensAt).toISOString() : null;
}

/**
 * Registers every message handler, in the order they always were. Each one changes the context
 * and counts itself in `ctx.messages`, which is what wakes a waiting phase; none of them starts a
 * rotation itself.
 */
export function registerInbox(ctx: LifecycleContext): void {
  setHandler(statusQuery, () => statusOf(ctx));
  registerSupply(ctx);
  registerControl(ctx);
  registerApprovals(ctx);
}

/** The owner's value for a supplied type: accepted only for the rotation waiting for it. */
function registerSupply(ctx: LifecycleContext): void {
  setHandler(
    supplyValueUpdate,
    (request) => {
      ctx.supply.received = request;
      return { accepted: true } as const;
    },
    {
      validator: (request: SupplyRequest) => {
        const refuse = (message: string): never => {
          throw ApplicationFailure.nonRetryable(message, ErrorType.SupplyRefused);
        };
        const { supply } = ctx;
        if (!supply.pending) refuse('no rotation of this secret is waiting for a value');
        if (supply.pending?.rotationId !== request.rotationId)
          refuse(`rotation ${request.rotationId} is not the one waiting for a value`);
        if (supply.received) refuse('a value was already supplied for this rotation');
        if (request.version <= (ctx.s?.latestVersion ?? 0))
          refuse(`version ${request.version} is not newer than the secret's latest`);
      },
    },
  );
}

/**
 * From this patch on, a policy update with a duration past MAX_POLICY_SECONDS is ignored; before
 * it, one was applied (and the lifecycle failed on every date it computed from it).
 */
const POLICY_RANGE_PATCH = 'policy-range-v1';

/** Rotate now, retire, pause, resume and policy: the secret's controls. */
function registerControl(ctx: LifecycleContext): void {
  // Signals cannot be refused, so a malformed one is ignored (and logged): it must never reach an
  // activity that fails on it. The API validates first; these guard raw signals (the Temporal UI).
  const ignored = (signal: string): void => log.warn('Ignored a malformed signal', { signal });
  setHandler(rotateNowSignal, (request) => {
    if (!isValidRequester(request)) return ignored('rotateNow');
    if (ctx.s) ctx.s.rotateRequest ??= request;
    else ctx.early.rotate ??= request;
    ctx.messages += 1;
  });
  setHandler(
    requestRotationUpdate,
    (request: RotateRequest): RotateAnswer => {
      ctx.messages += 1;
      const start = request.start ?? 'now';
      const running = ctx.running;
      if (running?.joinable) {
        const waiting = ctx.window.waiting;
        // Joining a rotation that waits for the window: asked to run now, it starts now.
        if (waiting && start === 'now') ctx.window.startNow = true;
        return {
          status: 'in_progress',
          rotationId: running.rotationId,
          startsAfter: null,
          start: waiting && start === 'window' ? 'window' : 'now',
          startsAt: waiting && start === 'window' ? waiting.opensAt : null,
        };
      }
      const queued = pendingRotate(ctx);
      if (queued && !queued.rotationId) queued.rotationId = uuid4();
      // A request to run now makes a queued one run now too; one for the window keeps a queued
      // request's choice (the first request decided it).
      if (queued && start === 'now') delete queued.inWindow;
      const next: Requester = queued ?? {
        requestedBy: request.requestedBy,
        reason: request.reason,
        rotationId: uuid4(),
        ...(start === 'window' ? { inWindow: true } : {}),
        ...(request.origin ? { origin: request.origin } : {}),
      };
      setRotateRequest(ctx, next);
      const startsAfter = ctx.s ? graceWaitEndsAt(ctx) : null;
      const startsAt = next.inWindow ? windowStartsAt(ctx, startsAfter) : startsAfter;
      return {
        // Behind a running rotation, it starts once that one (and any grace it begins) is over.
        status: startsAt || running || !ctx.s ? 'queued' : 'started',
        rotationId: next.rotationId ?? '',
        startsAfter,
        start: next.inWindow ? 'window' : 'now',
        startsAt,
      };
    },
    {
      validator: (request: RotateRequest) => {
        if (!isValidRequester(request))
          refuseRotation('INVALID_REQUEST', 'a rotate request needs a requester and a reason');
        if ((ctx.s?.retireRequest ?? ctx.early.retire) !== null)
          refuseRotation('RETIRING', 'this secret is being retired');
        if (ctx.s?.needsAttention)
          refuseRotation(
            'NEEDS_ATTENTION',
            'this secret needs attention after a failure: retry or resume it instead',
          );
        if (ctx.s?.paused ?? ctx.early.paused)
          refuseRotation('PAUSED', 'this secret is paused: resume it first');
      },
    },
  );
  setHandler(retireSignal, (request) => {
    if (!isValidRequester(request)) return ignored('retire');
    if (ctx.s) ctx.s.retireRequest ??= request;
    else ctx.early.retire ??= request;
    ctx.messages += 1;
  });
  setHandler(pauseSignal, (request) => {
    // A raw signal from the Temporal UI may carry anything, or nothing: appendAudit cleans it.
    ctx.pauseOrigin = (request as Partial<Requester> | undefined)?.origin ?? null;
    if (ctx.s) ctx.s.paused = true;
    else ctx.early.paused = true;
    ctx.messages += 1;
  });
  setHandler(resumeSignal, (request) => {
    if (!isValidRequester(request)) return ignored('resume');
    ctx.pauseOrigin = request.origin ?? null;
    const s = ctx.s;
    if (s?.needsAttention) {
      const now = new Date().toISOString();
      if (s.repair)
        s.repair.nextAttemptAt = now; // Try the owed step now.
      else if (s.attentionCause === 'revoke')
        s.revokeRetryAt = now; // Retry revoking now.
      else {
        s.needsAttention = false;
        s.attentionCause = null;
        s.rotateRequest ??= {
          requestedBy: request.requestedBy,
          reason: `retry after failure: ${request.reason}`,
          inWindow: true,
          ...(request.origin ? { origin: request.origin } : {}),
        };
      }
    }
    if (s) s.paused = false;
    else ctx.early.paused = false;
    ctx.messages += 1;
  });
  setHandler(updatePolicySignal, (update) => {
    if (!isValidPolicyUpdate(update)) return ignored('updatePolicy');
    // Durations no date can hold wedged the lifecycle; a history that took one keeps its path.
    if (!isPolicyInRange(update.policy) && patched(POLICY_RANGE_PATCH))
      return ignored('updatePolicy');
    ctx.policyUpdate = update;
    ctx.messages += 1;
  });
}

/** Approve, reject and break-glass: security's answers to a rotation that needs approval. */
function registerApprovals(ctx: LifecycleContext): void {
  const { tenantId } = ctx.input;
  const decide = async (
    approver: string,
    outcome: 'approved' | 'rejected',
    reason: string | null,
    origin: ApproveRequest['origin'],
  ): Promise<DecisionResult> => {
    // The validator ran in this same activation, so a pending approval exists.
    const pending = ctx.approval.pending as PendingApproval;
    if (outcome === 'approved') pending.approvals.push(approver);
    const complete = outcome === 'rejected' || pending.approvals.length >= pending.quorum;
    if (complete) ctx.approval.decision = { outcome, by: approver };
    ctx.messages += 1;
    await bookkeeping.recordApprovalDecision({
      rotationId: pending.rotationId,
      secretId: ctx.s?.secretId ?? '',
      tenantId,
      approver,
      decision: outcome,
      reason,
      updateId: currentUpdateInfo()?.id ?? uuid4(),
      ...(complete && outcome === 'approved' ? { approvedBy: [...pending.approvals] } : {}),
      ...(origin ? { origin } : {}),
    });
    return {
      rotationId: pending.rotationId,
      outcome: complete ? outcome : 'awaiting_more_approvals',
      approvals: [...pending.approvals],
      quorum: pending.quorum,
    };
  };
  const expiredApprovals = (): string[] => ctx.s?.expiredApprovals ?? [];
  setHandler(approveUpdate, (d) => decide(d.approver, 'approved', d.comment ?? null, d.origin), {
    validator: (d: ApproveRequest) =>
      checkDecision(ctx.approval.pending, expiredApprovals(), d, 'approve'),
  });
  setHandler(rejectUpdate, (d) => decide(d.approver, 'rejected', d.reason, d.origin), {
    validator: (d: RejectRequest) =>
      checkDecision(ctx.approval.pending, expiredApprovals(), d, 'reject'),
  });
  setHandler(
    breakGlassUpdate,
    async (request) => {
      // An emergency replaces any ordinary request, and stands in for a pending approval.
      setRotateRequest(ctx, {
        requestedBy: request.requestedBy,
        reason: request.reason,
        breakGlass: true,
        ...(request.origin ? { origin: request.origin } : {}),
      });
      if (ctx.approval.pending) ctx.approval.superseded = true;
      ctx.messages += 1;
      if (ctx.s) {
        await bookkeeping.recordStateChange({
          secretId: ctx.s.secretId,
          tenantId,
          state: ctx.state,
          action: 'rotation.break_glass',
          actor: request.requestedBy,
          outcome: 'info',
          details: { reason: request.reason },
          idempotencyKey: `break-glass:${currentUpdateInfo()?.id ?? uuid4()}`,
          ...(request.origin ? { origin: request.origin } : {}),
        });
      }
      await notify(ctx, NotificationKind.BreakGlass, ['security'], {
        requestedBy: request.requestedBy,
        reason: request.reason,
      });
      return { accepted: true } as const;
    },
    { validator: checkBreakGlass },
  );
}
