import type { Policy, RequestOrigin } from '../../domain';
import { appendAudit } from '../../audit';
import type { ActivityDeps } from '../deps';

export interface StateChangeInput {
  secretId: string;
  rotationId?: string;
  tenantId: string;
  state: string;
  /** Audit action, e.g. secret.paused, secret.needs_attention, policy.updated. */
  action: string;
  actor: string;
  outcome?: 'success' | 'failure' | 'info';
  details?: Record<string, string | number | boolean | null>;
  policy?: Policy;
  nextRotationAt?: string | null;
  lastErrorType?: string | null;
  idempotencyKey: string;
  /** Where the API request behind this change came from, when one did. */
  origin?: RequestOrigin;
}

/** Records a lifecycle state change in the secrets row and the audit trail, together. */
export function createRecordStateChange({ db }: Pick<ActivityDeps, 'db'>) {
  return async function recordStateChange(input: StateChangeInput): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('secrets')
        .set({
          state: input.state,
          updated_at: new Date(),
          ...(input.policy ? { policy: JSON.stringify(input.policy) } : {}),
          ...(input.nextRotationAt !== undefined ? { next_rotation_at: input.nextRotationAt } : {}),
          ...(input.lastErrorType !== undefined ? { last_error_type: input.lastErrorType } : {}),
        })
        .where('id', '=', input.secretId)
        .execute();
      await appendAudit(trx, {
        tenantId: input.tenantId,
        secretId: input.secretId,
        rotationId: input.rotationId ?? null,
        actor: input.actor,
        action: input.action,
        outcome: input.outcome ?? 'info',
        details: { state: input.state, ...input.details },
        idempotencyKey: input.idempotencyKey,
        origin: input.origin,
      });
    });
  };
}
