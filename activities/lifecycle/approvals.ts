import { RotationStatus, SecretState } from '../../domain';
import type { RequestOrigin } from '../../domain';
import { appendAudit } from '../../audit';
import type { ActivityDeps } from '../deps';
import { activityLog } from '../log';
import { recordRotationStep } from './record-step';

export interface ApprovalRequestInput {
  rotationId: string;
  secretId: string;
  tenantId: string;
  requestedBy: string;
  reason: string;
  quorum: number;
  expiresAt: string;
  /** Where the API request that asked for the rotation came from. */
  origin?: RequestOrigin;
}

export interface ApprovalDecisionInput {
  rotationId: string;
  secretId: string;
  tenantId: string;
  approver: string;
  decision: 'approved' | 'rejected';
  reason: string | null;
  /** The Temporal update id: a retried decision is recorded once. */
  updateId: string;
  /** Every approver so far, when this decision completes the quorum. */
  approvedBy?: string[];
  /** Where the approver's API request came from. */
  origin?: RequestOrigin;
}

/** Approval bookkeeping in the engine database: the request, each decision, and the audit rows. */
export function createApprovalRecords({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    async requestApproval(input: ApprovalRequestInput): Promise<void> {
      await recordRotationStep(db, {
        rotationId: input.rotationId,
        secretId: input.secretId,
        tenantId: input.tenantId,
        status: RotationStatus.AwaitingApproval,
        secret: { state: SecretState.AwaitingApproval, updated_at: new Date() },
        audit: {
          actor: input.requestedBy,
          action: 'approval.requested',
          outcome: 'info',
          details: { reason: input.reason, quorum: input.quorum, expiresAt: input.expiresAt },
          idempotencyKey: `${input.rotationId}:approval-requested`,
          origin: input.origin,
        },
      });
      activityLog().info('Approval requested', {
        quorum: input.quorum,
        expiresAt: input.expiresAt,
      });
    },

    async recordApprovalDecision(input: ApprovalDecisionInput): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('approvals')
          .values({
            rotation_id: input.rotationId,
            approver: input.approver,
            decision: input.decision,
            reason: input.reason,
            update_id: input.updateId,
          })
          .onConflict((oc) => oc.column('update_id').doNothing())
          .execute();
        if (input.approvedBy) {
          await trx
            .updateTable('rotations')
            .set({ approved_by: input.approvedBy.join(',') })
            .where('id', '=', input.rotationId)
            .execute();
        }
        await appendAudit(trx, {
          tenantId: input.tenantId,
          secretId: input.secretId,
          rotationId: input.rotationId,
          actor: input.approver,
          action: `approval.${input.decision}`,
          outcome: input.decision === 'approved' ? 'success' : 'info',
          details: { reason: input.reason },
          idempotencyKey: `approval-decision:${input.updateId}`,
          origin: input.origin,
        });
      });
      activityLog().info('Approval decision recorded', {
        decision: input.decision,
        approver: input.approver,
      });
    },
  };
}
