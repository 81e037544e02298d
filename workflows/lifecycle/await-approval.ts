import { allHandlersFinished, condition } from '@temporalio/workflow';
import { NotificationKind, SecretState, approvalPolicy } from '../../domain';
import type { PendingApproval, Requester } from '../messages';
import type { LifecycleState } from '../state';
import { bookkeeping, recordState, setState } from './context';
import type { LifecycleContext } from './context';
import { notify } from './notify';

export type ApprovalGate = 'approved' | 'rejected' | 'expired' | 'superseded' | 'retired';

/** Read through a function: handlers change it between awaits, which narrowing cannot see. */
const currentDecision = (ctx: LifecycleContext) => ctx.approval.decision;

/**
 * AWAITING_APPROVAL: a durable wait for security's decision, with reminders to approvers until
 * the escalation deadline, escalation to a second channel, then expiry. Nothing is staged yet.
 */
export async function awaitApproval(
  ctx: LifecycleContext,
  target: LifecycleState,
  rotationId: string,
  request: Requester,
): Promise<ApprovalGate> {
  const { approval } = ctx;
  const rules = approvalPolicy(target.policy);
  const requestedAt = Date.now();
  const at = (seconds: number): number => requestedAt + seconds * 1000;
  const pending: PendingApproval = {
    rotationId,
    requestedBy: request.requestedBy,
    reason: request.reason,
    requestedAt: new Date(requestedAt).toISOString(),
    escalatesAt: new Date(at(rules.escalateAfterSeconds)).toISOString(),
    expiresAt: new Date(at(rules.expireAfterSeconds)).toISOString(),
    quorum: rules.quorum,
    approvals: [],
    escalated: false,
  };
  approval.pending = pending;
  approval.decision = null;
  approval.superseded = false;
  setState(ctx, SecretState.AwaitingApproval);
  await bookkeeping.requestApproval({
    rotationId,
    secretId: target.secretId,
    tenantId: ctx.input.tenantId,
    requestedBy: request.requestedBy,
    reason: request.reason,
    quorum: rules.quorum,
    expiresAt: pending.expiresAt,
    ...(request.origin ? { origin: request.origin } : {}),
  });
  const approvalContext = {
    rotationId,
    requestedBy: request.requestedBy,
    reason: request.reason,
    expiresAt: pending.expiresAt,
  };
  await notify(ctx, NotificationKind.ApprovalRequested, ['security'], approvalContext);
  const escalatesAt = at(rules.escalateAfterSeconds);
  const expiresAt = at(rules.expireAfterSeconds);
  let nextReminder = at(rules.remindEverySeconds);
  let outcome: ApprovalGate | null = null;
  while (outcome === null) {
    const wakeAt = Math.min(
      expiresAt,
      pending.escalated ? Infinity : Math.min(escalatesAt, nextReminder),
    );
    await condition(
      () => approval.decision !== null || approval.superseded || target.retireRequest !== null,
      Math.max(1, wakeAt - Date.now()),
    );
    const now = Date.now();
    const decision = currentDecision(ctx);
    if (decision) outcome = decision.outcome;
    else if (approval.superseded) outcome = 'superseded';
    else if (target.retireRequest) outcome = 'retired';
    else if (now >= expiresAt) outcome = 'expired';
    else if (!pending.escalated && now >= escalatesAt) {
      pending.escalated = true;
      await recordState(ctx, SecretState.AwaitingApproval, 'approval.escalated', 'rotor', {
        rotationId,
      });
      await notify(ctx, NotificationKind.ApprovalEscalated, ['security'], approvalContext);
    } else if (now >= nextReminder) {
      await recordState(ctx, SecretState.AwaitingApproval, 'approval.reminded', 'rotor', {
        rotationId,
      });
      await notify(ctx, NotificationKind.ApprovalReminded, ['security'], approvalContext);
      nextReminder += rules.remindEverySeconds * 1000;
    }
  }
  approval.pending = null;
  if (outcome === 'expired') {
    // Remembered so a late decision is told why it is refused, even after continueAsNew.
    target.expiredApprovals = [...(target.expiredApprovals ?? []), rotationId].slice(-20);
  }
  if (outcome === 'superseded') {
    await recordState(ctx, SecretState.Rotating, 'approval.superseded', 'rotor', { rotationId });
  }
  // Decision rows are written by the update handlers; let them finish before moving on.
  await condition(allHandlersFinished);
  return outcome;
}
