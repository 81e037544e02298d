import { ApplicationFailure } from '@temporalio/workflow';
import { ErrorType, Role } from '../domain';
import type { ApproveRequest, BreakGlassRequest, PendingApproval, RejectRequest } from './messages';

function refuse(message: string): never {
  throw ApplicationFailure.nonRetryable(message, ErrorType.ApprovalRefused);
}

/**
 * The rules an approval or rejection must pass, run as the update's validator: a refused decision
 * is answered at once and leaves no trace in history.
 */
export function checkDecision(
  pending: PendingApproval | null,
  expiredRotationIds: readonly string[],
  decision: ApproveRequest | RejectRequest,
  kind: 'approve' | 'reject',
): void {
  if (!decision.approver) refuse('a decision must name its approver');
  if (!decision.roles.includes(Role.Security)) {
    refuse(`${decision.approver} does not hold the security role`);
  }
  if (expiredRotationIds.includes(decision.rotationId)) {
    refuse(
      `rotation ${decision.rotationId} is no longer awaiting approval: its approval window expired`,
    );
  }
  if (!pending) refuse('no rotation of this secret is awaiting approval');
  if (pending.rotationId !== decision.rotationId) {
    refuse(
      `decision is for rotation ${decision.rotationId}, but rotation ${pending.rotationId} is the one awaiting approval`,
    );
  }
  if (decision.approver === pending.requestedBy) {
    refuse('the requester of a rotation cannot decide on it (separation of duties)');
  }
  if (kind === 'approve' && pending.approvals.includes(decision.approver)) {
    refuse(`${decision.approver} has already approved rotation ${pending.rotationId}`);
  }
  if (kind === 'reject' && !('reason' in decision && decision.reason.trim())) {
    refuse('a rejection must give a reason');
  }
}

export function checkBreakGlass(request: BreakGlassRequest): void {
  if (!request.roles.includes(Role.Admin))
    refuse(`${request.requestedBy} does not hold the admin role`);
  if (!request.reason.trim()) refuse('break-glass must give a reason');
}
