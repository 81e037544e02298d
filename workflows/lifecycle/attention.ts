import { ActivityFailure, log, uuid4 } from '@temporalio/workflow';
import { NotificationKind, SecretState } from '../../domain';
import type { CredentialsAfterFailure, FailedStep, RequestOrigin } from '../../domain';
import type { LifecycleState } from '../state';
import { bookkeeping, setState } from './context';
import type { LifecycleContext } from './context';
import { notify } from './notify';

/**
 * A failure no retry fixed: the secret waits in NEEDS_ATTENTION, ops and the tenant hear what is
 * actually true of the credentials, and the workflow goes on answering every message.
 */
export async function enterAttention(
  ctx: LifecycleContext,
  target: LifecycleState,
  cause: NonNullable<LifecycleState['attentionCause']>,
  errorType: string,
  credentials: CredentialsAfterFailure,
  rotationId?: string,
  facts: { step?: FailedStep; missingPrivilege?: string; origin?: RequestOrigin } = {},
): Promise<void> {
  const { step, missingPrivilege, origin } = facts;
  target.needsAttention = true;
  target.attentionCause = cause;
  target.lastErrorType = errorType;
  setState(ctx, SecretState.NeedsAttention);
  await bestEffort('record needs-attention', () =>
    bookkeeping.recordStateChange({
      secretId: target.secretId,
      tenantId: ctx.input.tenantId,
      state: SecretState.NeedsAttention,
      action: 'secret.needs_attention',
      actor: 'rotor',
      outcome: 'failure',
      lastErrorType: errorType,
      details: {
        cause,
        credentials,
        ...(step ? { step } : {}),
        ...(missingPrivilege ? { missingPrivilege } : {}),
      },
      idempotencyKey: uuid4(),
      ...(rotationId ? { rotationId } : {}),
      ...(origin ? { origin } : {}),
    }),
  );
  await notify(ctx, NotificationKind.RotationFailed, ['ops', 'tenant'], {
    errorType,
    credentials,
    ...(rotationId ? { rotationId } : {}),
    ...(step ? { step } : {}),
    ...(missingPrivilege ? { missingPrivilege } : {}),
  });
}

/** Runs an activity whose failure must not stop what follows (it is in history as failed). */
async function bestEffort(what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('A bookkeeping step failed; the lifecycle goes on', { what });
  }
}
