import { allHandlersFinished, condition } from '@temporalio/workflow';
import { NotificationKind, SecretState, secretStagingPath, supplyPolicy } from '../../domain';
import type { RequestOrigin } from '../../domain';
import type { PendingSupply, SupplyRequest } from '../messages';
import type { LifecycleState } from '../state';
import { recordState } from './context';
import type { LifecycleContext } from './context';
import { notify } from './notify';

/** Read through a function: the update handler sets it between awaits. */
const receivedSupply = (ctx: LifecycleContext) => ctx.supply.received;

/**
 * AWAITING_VALUE: a durable wait for the owner's value, reminding them until it arrives. Past
 * the deadline the secret is OVERDUE and keeps waiting. Returns null if retired meanwhile.
 */
export async function awaitValue(
  ctx: LifecycleContext,
  target: LifecycleState,
  rotationId: string,
  aside: boolean,
  /** Where the API request for this rotation came from: on value.requested, not on reminders. */
  origin?: RequestOrigin,
): Promise<SupplyRequest | null> {
  const { supply } = ctx;
  const rules = supplyPolicy(target.policy);
  const requestedAt = Date.now();
  const dueAt = requestedAt + rules.deadlineSeconds * 1000;
  const dueIso = new Date(dueAt).toISOString();
  const pending: PendingSupply = {
    rotationId,
    requestedAt: new Date(requestedAt).toISOString(),
    dueAt: dueIso,
    overdue: false,
    ...(aside ? { stagingPath: secretStagingPath(ctx.input.tenantId, ctx.input.name) } : {}),
  };
  supply.pending = pending;
  supply.received = null;
  await recordState(ctx, SecretState.AwaitingValue, 'value.requested', 'rotor', {
    rotationId,
    ...(origin ? { origin } : {}),
  });
  await notify(ctx, NotificationKind.ValueNeeded, ['tenant'], { rotationId, expiresAt: dueIso });
  let nextReminder = requestedAt + rules.remindEverySeconds * 1000;
  while (!receivedSupply(ctx) && !target.retireRequest) {
    const wakeAt = pending.overdue ? nextReminder : Math.min(nextReminder, dueAt);
    await condition(
      () => supply.received !== null || target.retireRequest !== null,
      Math.max(1, wakeAt - Date.now()),
    );
    if (receivedSupply(ctx) || target.retireRequest) break;
    const now = Date.now();
    if (!pending.overdue && now >= dueAt) {
      pending.overdue = true;
      await recordState(ctx, SecretState.Overdue, 'value.overdue', 'rotor', { rotationId });
      await notify(ctx, NotificationKind.ValueOverdue, ['tenant', 'ops'], { rotationId });
    } else if (now >= nextReminder) {
      await recordState(ctx, ctx.state, 'value.reminded', 'rotor', { rotationId });
      await notify(ctx, NotificationKind.ValueReminder, ['tenant'], {
        rotationId,
        expiresAt: dueIso,
      });
      nextReminder += rules.remindEverySeconds * 1000;
    }
  }
  const received = receivedSupply(ctx);
  supply.pending = null;
  await condition(allHandlersFinished);
  if (!received) return null;
  await recordState(ctx, SecretState.Rotating, 'value.supplied', received.suppliedBy, {
    rotationId,
    ...(received.origin ? { origin: received.origin } : {}),
  });
  return received;
}
