import { condition, log, patched } from '@temporalio/workflow';
import { SecretState } from '../../domain';
import type { Policy } from '../../domain';
import { earliestInWindow } from '../../schedule/window';
import type { Requester } from '../messages';
import type { LifecycleState } from '../state';
import { recordState } from './context';
import type { LifecycleContext } from './context';

/**
 * Rotations wait for the maintenance window on every start (schedule, approval, resume, retry,
 * rotate-now asked for the window), not only on a scheduled one. A new step in the command order.
 */
export const WINDOWS_PATCH = 'windows-on-every-start-v1';

export type WindowGate = 'open' | 'retired';

/**
 * When the window lets a rotation start, at or after `now`: `now` itself while it is open. A
 * window the API let through but that cannot be computed never holds a rotation back (and never
 * fails the workflow): it is logged, and the rotation runs.
 */
export function windowOpensAt(policy: Policy, now: number): number {
  const window = policy.maintenanceWindow;
  if (!window) return now;
  try {
    return earliestInWindow(window, new Date(now)).getTime();
  } catch {
    log.warn('A maintenance window could not be computed; the rotation is not held back');
    return now;
  }
}

/** Read through a function: handlers change it between awaits, which narrowing cannot see. */
const startNow = (ctx: LifecycleContext): boolean => ctx.window.startNow;

/**
 * AWAITING_WINDOW: a durable timer until the policy's maintenance window opens, before the
 * rotation touches anything. Any message wakes it to look again: a pause holds it (PAUSED, no
 * timer) until resumed, a retire ends it, break-glass or a rotate-now asked to run at once
 * starts it now, and a policy update waiting to be applied is what it follows.
 */
export async function awaitWindow(
  ctx: LifecycleContext,
  target: LifecycleState,
  rotationId: string,
  request: Requester,
): Promise<WindowGate> {
  const windowed = (): boolean =>
    (ctx.policyUpdate?.policy ?? target.policy).maintenanceWindow !== undefined;
  if (!request.inWindow || request.breakGlass || !windowed()) return 'open';
  // Histories recorded before this gate existed went straight on to stage.
  if (!patched(WINDOWS_PATCH)) return 'open';
  ctx.window.startNow = false;
  let waited = false;
  for (;;) {
    if (target.retireRequest) {
      finish(ctx);
      return 'retired';
    }
    if (target.rotateRequest?.breakGlass) {
      // The emergency is this rotation, now: it is not run a second time afterwards.
      target.rotateRequest = null;
      break;
    }
    if (startNow(ctx)) break;
    const now = Date.now();
    const opensAt = windowOpensAt(ctx.policyUpdate?.policy ?? target.policy, now);
    if (opensAt <= now && !target.paused) break;
    ctx.window.waiting = { rotationId, opensAt: new Date(opensAt).toISOString() };
    const state = target.paused ? SecretState.Paused : SecretState.AwaitingWindow;
    if (ctx.state !== state) {
      const action = target.paused
        ? 'secret.paused'
        : waited
          ? 'secret.resumed'
          : 'rotation.awaiting_window';
      const actor = waited ? 'api' : 'rotor';
      waited = true;
      // A pause or resume is its caller's; the wait itself, the rotation requester's.
      const byRequest = action === 'rotation.awaiting_window' ? request.origin : ctx.pauseOrigin;
      await recordState(ctx, state, action, actor, {
        rotationId,
        ...(byRequest ? { origin: byRequest } : {}),
      });
      // A message may have come in meanwhile (in the same activation): look again before waiting.
      continue;
    }
    const seen = ctx.messages;
    if (target.paused) await condition(() => ctx.messages !== seen);
    else await condition(() => ctx.messages !== seen, Math.max(1, opensAt - Date.now()));
  }
  finish(ctx);
  if (waited) {
    await recordState(ctx, SecretState.Rotating, 'rotation.window_opened', 'rotor', {
      rotationId,
      ...(request.origin ? { origin: request.origin } : {}),
    });
  }
  return 'open';
}

function finish(ctx: LifecycleContext): void {
  ctx.window.waiting = null;
  ctx.window.startNow = false;
}
