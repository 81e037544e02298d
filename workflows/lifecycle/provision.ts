import { patched, workflowInfo } from '@temporalio/workflow';
import { targetConnectionOf } from '../../domain';
import type { LifecycleState } from '../state';
import { bookkeeping } from './context';
import type { LifecycleContext } from './context';
import { rotate } from './rotate';

/** Lifecycles created with an imported value promote it as their first version. */
const IMPORT_PATCH = 'import-initial-value-v1';

/**
 * The first run: register the secret, then provision its first version like any rotation, so it
 * is audited the same way. Messages that arrived before registration are applied to the state.
 */
export async function provision(ctx: LifecycleContext): Promise<LifecycleState> {
  const { input: first, early: pending } = ctx;
  const connection = targetConnectionOf(first.target);
  const secretId = await bookkeeping.registerSecret({
    tenantId: first.tenantId,
    name: first.name,
    type: first.type,
    policy: first.policy,
    workflowId: workflowInfo().workflowId,
    vaultPath: first.vaultPath,
    requestedBy: first.requestedBy,
    // Recorded so a connection that secrets use cannot be deleted from under them.
    ...(connection !== undefined ? { targetConnection: connection } : {}),
    // Input only (no command changes), so recorded histories replay without a patch.
    ...(first.origin ? { origin: first.origin } : {}),
  });
  const fresh: LifecycleState = {
    secretId,
    policy: first.policy,
    currentVersion: null,
    previousVersion: null,
    latestVersion: 0,
    nextRotationAt: new Date().toISOString(),
    lastRotatedAt: null,
    graceEndsAt: null,
    lastErrorType: null,
    needsAttention: false,
    paused: pending.paused,
    rotationsCompleted: 0,
    rotateRequest: pending.rotate,
    retireRequest: pending.retire,
  };
  ctx.s = fresh;
  // Only lifecycles started with an imported value ask, so recorded histories replay unchanged.
  const imported = first.imported && patched(IMPORT_PATCH) ? first.imported : undefined;
  const origin = first.origin ? { origin: first.origin } : {};
  await rotate(
    ctx,
    fresh,
    imported
      ? {
          requestedBy: first.requestedBy,
          reason: 'initial: imported value',
          rotationId: imported.rotationId,
          ...origin,
        }
      : { requestedBy: first.requestedBy, reason: 'initial', ...origin },
    imported ? { initial: true, imported } : { initial: true },
  );
  return fresh;
}
