import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { SecretState } from '../domain';
import { enterAttention } from './lifecycle/attention';
import { createContext, repairDelayMs, setState } from './lifecycle/context';
import type { SecretLifecycleInput } from './lifecycle/context';
import { registerInbox } from './lifecycle/inbox';
import { statusOf } from './lifecycle/status';
import { lifecycleStep } from './lifecycle/main-loop';
import { provision } from './lifecycle/provision';
import { retire } from './lifecycle/retire';
import type { SecretStatus } from './messages';
import { errorTypeOf } from './rotation';
import { SecretNameKey, SecretTypeKey, TenantIdKey } from './search-attributes';
import type { LifecycleState } from './state';

export type { ImportedValue, SecretLifecycleInput } from './lifecycle/context';

/**
 * One long-running workflow per managed secret. It sleeps on a durable timer until the next
 * rotation is due, rotates, keeps the previous version through the grace period, revokes it, and
 * continues as new. It carries ids, paths, versions and times only; values stay in activities.
 *
 * The phases and their states are in ./lifecycle (README.md draws them). The registration and
 * main loops stay here, awaiting each phase directly as before: handlers run alongside them, and
 * recorded histories depend on the order in which both issue commands.
 */
export async function secretLifecycle(input: SecretLifecycleInput): Promise<SecretStatus> {
  const ctx = createContext(input);
  registerInbox(ctx);

  if (!ctx.s) {
    upsertSearchAttributes([
      { key: TenantIdKey, value: input.tenantId },
      { key: SecretTypeKey, value: input.type },
      { key: SecretNameKey, value: input.name },
    ]);
    setState(ctx, SecretState.Rotating);
    // Registering cannot be skipped: until the secret has a row, retry it (a resume retries now).
    for (let attempt = 0; !ctx.s; attempt += 1) {
      try {
        await provision(ctx);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        const current: LifecycleState | undefined = ctx.s;
        if (current) {
          await enterAttention(ctx, current, 'rotation', errorTypeOf(err), 'old-works');
          break;
        }
        setState(ctx, SecretState.NeedsAttention);
        const seen = ctx.messages;
        await condition(() => ctx.messages !== seen, repairDelayMs(input.policy, attempt));
        setState(ctx, SecretState.Rotating);
      }
    }
  }
  const st: LifecycleState = ctx.s as unknown as LifecycleState;

  for (;;) {
    try {
      if ((await lifecycleStep(ctx, st)) === 'retire') break;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // Whatever step failed past its retries, the lifecycle lives on in NEEDS_ATTENTION.
      ctx.approval.pending = null;
      ctx.supply.pending = null;
      ctx.running = null;
      await enterAttention(ctx, st, 'rotation', errorTypeOf(err), 'old-works');
    }
  }

  // The loop ends only on a retire request.
  await retire(ctx, st);
  await condition(allHandlersFinished);
  return statusOf(ctx);
}
