import { ActivityFailure, condition, workflowInfo } from '@temporalio/workflow';
import { SecretState, secretStagingPath } from '../../domain';
import { errorTypeOf } from '../rotation';
import type { LifecycleState } from '../state';
import { enterAttention } from './attention';
import { bookkeeping, repairDelayMs, setState } from './context';
import type { LifecycleContext } from './context';

/**
 * RETIRED, the end: revoke what is live and apply the Vault deletion policy, retried until it
 * works (NEEDS_ATTENTION meanwhile; any message retries at once). Runs only on a retire request.
 */
export async function retire(ctx: LifecycleContext, st: LifecycleState): Promise<void> {
  const { tenantId, vaultPath, target } = ctx.input;
  const request = st.retireRequest as NonNullable<LifecycleState['retireRequest']>;
  st.repair = null;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await bookkeeping.retireSecret({
        secretId: st.secretId,
        tenantId,
        vaultPath,
        requestedBy: request.requestedBy,
        reason: request.reason,
        vaultDeletion: request.vaultDeletion ?? 'destroy-all',
        idempotencyKey: `${workflowInfo().workflowId}:retired:${workflowInfo().runId}`,
        ...(target ? { target } : {}),
        // An activity input only (no command changes): histories replay without a patch.
        stagingPath: secretStagingPath(tenantId, ctx.input.name),
        ...(request.origin ? { origin: request.origin } : {}),
      });
      break;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      if (attempt === 0)
        await enterAttention(ctx, st, 'rotation', errorTypeOf(err), 'previous-live');
      const seen = ctx.messages;
      await condition(() => ctx.messages !== seen, repairDelayMs(st.policy, attempt));
    }
  }
  setState(ctx, SecretState.Retired);
}
