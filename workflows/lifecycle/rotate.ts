/** ROTATING: one rotation, from its request through approval and value waits to its outcome. */
import { patched, uuid4, workflowInfo } from '@temporalio/workflow';
import { NotificationKind, RotationStatus, SecretState, secretStagingPath } from '../../domain';
import type { Requester, SupplyRequest } from '../messages';
import { rotationActivities, rotationLocalActivities } from '../activity-options';
import { runRotation } from '../rotation';
import type { RotationTarget } from '../rotation';
import type { LifecycleState } from '../state';
import { awaitApproval } from './await-approval';
import { awaitValue } from './await-value';
import { awaitWindow } from './await-window';
import { completeRotation, plannedNextRotation } from './complete-rotation';
import { enterAttention } from './attention';
import { bookkeeping, localBookkeeping, repairDelayMs, setNextRotation, setState } from './context';
import type { ImportedValue, LifecycleContext } from './context';
import { notify } from './notify';

/**
 * Rotations stage aside (a staging path consumers cannot read) and promote by writing the
 * verified value to the consumer path. Rotations recorded before stage on the consumer path.
 */
const CONSUMER_LAYOUT_PATCH = 'consumer-layout-v1';

/**
 * Rotations with fewer round trips to the server: the rotation's bookkeeping (begin, next-rotation
 * time, finish when not folded) runs as local activities, staging verifies, apply verifies at the
 * target, and promote finishes the rotation in its own transaction. Same steps, rows and audit
 * order; rotations recorded before run every step as an activity of its own.
 */
const FEWER_ROUND_TRIPS_PATCH = 'fewer-round-trips-v1';

/**
 * A rotation that starts at once (no approval, value or window to wait for) begins in its stage
 * (the rotation's row and `rotation.requested`, beside the Vault work) and computes its next
 * rotation in its promote, as it finishes: the workflow task that takes the request schedules the
 * stage and nothing else. Same rows and audit order; rotations that wait, and rotations recorded
 * before, begin and plan with local activities.
 */
const FOLD_PATCH = 'fold-begin-next-v1';

/**
 * On the folded path, promote also hands the tenant the "rotation completed" event: its outbox
 * row in promote's transaction, so the workflow task that reads promote's answer runs no local
 * activity to hand it over. The same event, with promote's grace end and next rotation.
 */
const ANNOUNCE_PATCH = 'promote-announces-v1';

/**
 * Break-glass that supersedes a pending approval is this rotation, run now: its request is taken,
 * as a window wait takes it. Before, it stayed queued and ran a second rotation straight after
 * this one, revoking this rotation's previous credential with no grace.
 */
const SUPERSEDE_ONCE_PATCH = 'break-glass-supersedes-once-v1';

/** What one rotation (or repair step) works on: the secret, its target, and the layout. */
export function rotationTarget(
  ctx: LifecycleContext,
  target: LifecycleState,
  aside: boolean,
): RotationTarget {
  const { tenantId, name, type, vaultPath } = ctx.input;
  return {
    secretId: target.secretId,
    tenantId,
    type,
    vaultPath,
    policy: target.policy,
    latestVersion: target.latestVersion,
    currentVersion: target.currentVersion,
    ...(ctx.input.target ? { spec: ctx.input.target } : {}),
    ...(aside ? { stagingPath: secretStagingPath(tenantId, name) } : {}),
  };
}

/** The first rotation (no approval gate), and a value imported at create that it promotes. */
export interface RotateOptions {
  initial?: boolean;
  imported?: ImportedValue;
}

/**
 * ROTATING: one rotation from request to outcome, through the approval and value waits when the
 * type has them. It ends in ACTIVE or IN_GRACE (completed), NEEDS_ATTENTION (failed), or back in
 * ACTIVE or PAUSED (approval rejected or expired).
 */
export async function rotate(
  ctx: LifecycleContext,
  target: LifecycleState,
  request: Requester,
  options: RotateOptions = {},
): Promise<void> {
  // The caller has set ROTATING; recorded histories depend on that order of commands.
  const rotationId = request.rotationId ?? uuid4();
  ctx.running = { rotationId, joinable: true };
  try {
    await rotateOnce(ctx, target, request, rotationId, options);
  } finally {
    ctx.running = null;
    // A failure while waiting for the window leaves no stale wait in the status.
    ctx.window.waiting = null;
  }
}

/**
 * Whether this rotation goes straight from its request to staging: no approval gate, nothing to
 * wait for from its owner (a generated value, not an imported one), and no maintenance window to
 * look at (`awaitWindow` returns at once, without commands, on exactly these terms).
 */
function startsAtOnce(
  ctx: LifecycleContext,
  target: LifecycleState,
  request: Requester,
  options: RotateOptions,
): boolean {
  const gated = target.policy.requiresApproval && !options.initial && !request.breakGlass;
  const windowed = (ctx.policyUpdate?.policy ?? target.policy).maintenanceWindow !== undefined;
  const windowGate = !options.initial && request.inWindow === true && !request.breakGlass;
  return (
    !gated &&
    target.policy.autoGenerate &&
    options.imported === undefined &&
    !(windowGate && windowed)
  );
}

async function rotateOnce(
  ctx: LifecycleContext,
  target: LifecycleState,
  request: Requester,
  rotationId: string,
  options: RotateOptions,
): Promise<void> {
  const { tenantId } = ctx.input;
  // Decided once per rotation, before anything is staged, so every step uses one layout.
  const aside = patched(CONSUMER_LAYOUT_PATCH);
  const fewer = patched(FEWER_ROUND_TRIPS_PATCH);
  const books = fewer ? localBookkeeping : bookkeeping;
  const begin = fewer ? rotationLocalActivities(target.policy) : rotationActivities(target.policy);
  const beginInput = {
    rotationId,
    secretId: target.secretId,
    tenantId,
    reason: request.reason,
    requestedBy: request.requestedBy,
    fromVersion: target.currentVersion,
    ...(request.bulkId ? { bulkId: request.bulkId } : {}),
    // Not secret, and an input only: command order is unchanged, so no patch is needed.
    ...(request.origin ? { origin: request.origin } : {}),
  };
  // Asked only where the fold applies, so rotations that wait keep their recorded commands.
  const folded = fewer && startsAtOnce(ctx, target, request, options) && patched(FOLD_PATCH);
  const announce = folded && patched(ANNOUNCE_PATCH);
  // Where it is folded, a finish that finds no row (the stage never got to record it) writes it.
  const begun = folded ? { begin: beginInput } : {};
  if (!folded) await begin.beginRotation(beginInput);
  // Break-glass took this rotation over from its approval: like break-glass, it ignores windows.
  let emergency = false;
  // Creating a secret is not a rotation of a live credential; every later rotation of a
  // sensitive type waits for security, unless an admin broke the glass.
  if (target.policy.requiresApproval && !options.initial && !request.breakGlass) {
    const gate = await awaitApproval(ctx, target, rotationId, request);
    if (gate !== 'approved' && gate !== 'superseded') {
      setNextRotation(
        ctx,
        await books.computeNextRotation({
          policy: target.policy,
          from: new Date().toISOString(),
        }),
      );
      const next = target.paused ? SecretState.Paused : SecretState.Active;
      setState(ctx, next);
      await books.finishRotation({
        rotationId,
        secretId: target.secretId,
        tenantId,
        // Retired while waiting, nobody rejected it: it ends as the value and window waits do.
        // (The finish's input only: the same commands, so recorded histories replay unchanged.)
        status:
          gate === 'expired'
            ? RotationStatus.ApprovalExpired
            : gate === 'retired'
              ? RotationStatus.Failed
              : RotationStatus.Rejected,
        ...(gate === 'retired' ? { errorType: 'SecretRetired' } : {}),
        secretState: next,
        nextRotationAt: target.nextRotationAt,
        actor: gate === 'rejected' ? (ctx.approval.decision?.by ?? 'rotor') : 'rotor',
        // A rejection is the approver's act: their origin is on approval.rejected, not here.
        ...(gate !== 'rejected' && request.origin ? { origin: request.origin } : {}),
      });
      if (gate === 'expired') {
        // Said after the next attempt is scheduled, so the message can tell when it is.
        await notify(ctx, NotificationKind.ApprovalExpired, ['security', 'tenant'], {
          rotationId,
          requestedBy: request.requestedBy,
          reason: request.reason,
          nextRotationAt: target.nextRotationAt,
        });
      }
      return;
    }
    // Asked only on this path, so histories without a superseded approval replay unchanged.
    if (
      gate === 'superseded' &&
      target.rotateRequest?.breakGlass === true &&
      patched(SUPERSEDE_ONCE_PATCH)
    ) {
      target.rotateRequest = null;
      emergency = true;
    }
    setState(ctx, SecretState.Rotating);
  }
  // Types Rotor cannot generate wait for their owner's value (staged in Vault by the API).
  // An imported value is already staged, like a supplied one: nothing to generate or wait for.
  let supplied: SupplyRequest | null = options.imported
    ? {
        rotationId,
        version: options.imported.version,
        suppliedBy: request.requestedBy,
        expiresAt: options.imported.expiresAt,
      }
    : null;
  // Retired while waiting (for a value or the window): nothing was staged, the rotation ends.
  const endRetired = () =>
    books.finishRotation({
      rotationId,
      secretId: target.secretId,
      tenantId,
      status: RotationStatus.Failed,
      secretState: ctx.state,
      errorType: 'SecretRetired',
      nextRotationAt: target.nextRotationAt,
      actor: 'rotor',
      ...(request.origin ? { origin: request.origin } : {}),
      ...begun,
    });
  if (!supplied && !target.policy.autoGenerate) {
    supplied = await awaitValue(ctx, target, rotationId, aside, request.origin);
    if (!supplied) {
      await endRetired();
      return;
    }
  }
  // Approved and with its value, it waits for the maintenance window before touching anything.
  if (
    !options.initial &&
    (await awaitWindow(
      ctx,
      target,
      rotationId,
      emergency ? { ...request, breakGlass: true } : request,
    )) === 'retired'
  ) {
    await endRetired();
    return;
  }
  // From here the new value is made: a request now needs a rotation of its own.
  if (ctx.running) ctx.running.joinable = false;
  const expiresAt = supplied?.expiresAt ?? null;
  // On the fewer-round-trips path the next rotation is known before this one runs, so promote
  // can record it as it finishes the rotation; folded, promote computes it as it finishes.
  const plannedNext = fewer && !folded ? await plannedNextRotation(target, expiresAt) : null;
  const actor = request.requestedBy;
  const outcome = await runRotation(
    {
      ...rotationTarget(ctx, target, aside),
      ...(supplied ? { supplied: { version: supplied.version } } : {}),
      // The requester's origin reaches each step's audit row: activity inputs only, no patch.
      ...(request.origin ? { origin: request.origin } : {}),
    },
    rotationId,
    folded
      ? {
          finish: { actor },
          begin: beginInput,
          ...(announce
            ? {
                announce: {
                  secretName: ctx.input.name,
                  secretType: ctx.input.type,
                  workflowId: workflowInfo().workflowId,
                  graceSeconds: target.policy.graceSeconds,
                },
              }
            : {}),
        }
      : plannedNext === null
        ? null
        : { finish: { nextRotationAt: plannedNext, actor } },
  );
  if (outcome.ok) {
    const plan = folded ? { folded: beginInput } : plannedNext;
    await completeRotation(ctx, target, outcome, request, expiresAt, plan);
    return;
  }
  target.latestVersion = outcome.latestVersion;
  if (outcome.unresolved) {
    // Stopped half-way (a compensation or the promote failed too): Vault and the target may
    // disagree until what is owed succeeds, so it is retried on a schedule of its own.
    target.repair = {
      rotationId: outcome.rotationId,
      version: outcome.unresolved.version,
      steps: outcome.unresolved.steps,
      errorType: outcome.errorType,
      attempts: 0,
      nextAttemptAt: new Date(Date.now() + repairDelayMs(target.policy, 0)).toISOString(),
      requestedBy: request.requestedBy,
      expiresAt: supplied?.expiresAt ?? null,
      stagedAside: aside,
    };
    await enterAttention(
      ctx,
      target,
      'repair',
      outcome.errorType,
      'reconciling',
      outcome.rotationId,
      {
        ...(outcome.failedStep ? { step: outcome.failedStep } : {}),
        ...(outcome.missingPrivilege ? { missingPrivilege: outcome.missingPrivilege } : {}),
        ...(request.origin ? { origin: request.origin } : {}),
      },
    );
    return;
  }
  // Retries ran out: the old credential keeps working, a human decides what next (resume).
  target.lastErrorType = outcome.errorType;
  target.needsAttention = true;
  target.attentionCause = 'rotation';
  setState(ctx, SecretState.NeedsAttention);
  await books.finishRotation({
    rotationId: outcome.rotationId,
    secretId: target.secretId,
    tenantId,
    status: RotationStatus.Failed,
    secretState: SecretState.NeedsAttention,
    errorType: outcome.errorType,
    nextRotationAt: target.nextRotationAt,
    actor: request.requestedBy,
    ...(request.origin ? { origin: request.origin } : {}),
    ...begun,
  });
  // The alert: ops and the owning tenant hear at once that a human is needed.
  await notify(ctx, NotificationKind.RotationFailed, ['ops', 'tenant'], {
    rotationId: outcome.rotationId,
    errorType: outcome.errorType,
    credentials: 'old-works',
    ...(outcome.failedStep ? { step: outcome.failedStep } : {}),
    ...(outcome.missingPrivilege ? { missingPrivilege: outcome.missingPrivilege } : {}),
  });
}
