import {
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  allHandlersFinished,
  currentUpdateInfo,
  patched,
  log,
  ActivityFailure,
  ApplicationFailure,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  DEFAULT_REPAIR_EVERY_SECONDS,
  DEFAULT_UPCOMING_NOTICE_SECONDS,
  MAX_REPAIR_INTERVAL_SECONDS,
  NotificationKind,
  RotationStatus,
  SecretState,
  approvalPolicy,
  secretStagingPath,
  supplyPolicy,
  ErrorType,
} from '../domain';
import type { Audience, CredentialsAfterFailure, NotificationEvent } from '../domain';
import type { Policy, SecretType, TargetSpec } from '../domain';
import { bookkeepingOptions } from './activity-options';
import { checkBreakGlass, checkDecision } from './approval-rules';
import {
  approveUpdate,
  breakGlassUpdate,
  rejectUpdate,
  pauseSignal,
  resumeSignal,
  retireSignal,
  requestRotationUpdate,
  rotateNowSignal,
  statusQuery,
  supplyValueUpdate,
  updatePolicySignal,
} from './messages';
import { isValidPolicyUpdate, isValidRequester, refuseRotation } from './message-rules';
import type {
  ApproveRequest,
  DecisionResult,
  PendingApproval,
  PendingSupply,
  RejectRequest,
  SupplyRequest,
  Requester,
  RotateAnswer,
  RotateRequest,
  SecretStatus,
} from './messages';
import { errorTypeOf, rotationActivities, runRepairStep, runRotation } from './rotation';
import type { RotationOutcome, RotationTarget } from './rotation';
import {
  NextRotationAtKey,
  RotationStateKey,
  SecretNameKey,
  SecretTypeKey,
  TenantIdKey,
} from './search-attributes';
import type { LifecycleState, Repair, RepairStep } from './state';

export interface SecretLifecycleInput {
  tenantId: string;
  name: string;
  type: SecretType;
  policy: Policy;
  vaultPath: string;
  requestedBy: string;
  /** Where the value must also be accepted; absent for secrets that live in Vault alone. */
  target?: TargetSpec;
  /** Set by continueAsNew: the state of the run before this one. */
  carried?: LifecycleState;
}

const bookkeeping = proxyActivities<Activities>(bookkeepingOptions);

// Handing an event to the notifier is quick; if even that fails, the rotation goes on.
const notifier = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumAttempts: 3 },
});

/** Notifications were added after histories were recorded: old runs replay without them. */
const NOTIFICATIONS_PATCH = 'notifications-v1';
/**
 * Rotations stage aside (a staging path consumers cannot read) and promote by writing the
 * verified value to the consumer path. Rotations recorded before stage on the consumer path.
 */
const CONSUMER_LAYOUT_PATCH = 'consumer-layout-v1';

const SCHEDULE = { requestedBy: 'rotor-schedule', reason: 'scheduled' } as const;

/**
 * One long-running workflow per managed secret. It sleeps on a durable timer until the next
 * rotation is due, rotates, keeps the previous version through the grace period, revokes it, and
 * continues as new. It carries ids, paths, versions and times only; values stay in activities.
 */
export async function secretLifecycle(input: SecretLifecycleInput): Promise<SecretStatus> {
  const { tenantId, name, type, vaultPath } = input;
  let s: LifecycleState | undefined = input.carried;
  let state: SecretState = s
    ? s.paused
      ? SecretState.Paused
      : SecretState.Active
    : SecretState.Rotating;
  // Messages that arrive before provisioning finishes are kept until there is a state to apply them to.
  const early: {
    rotate: Requester | null;
    retire: LifecycleState['retireRequest'];
    paused: boolean;
  } = {
    rotate: null,
    retire: null,
    paused: false,
  };
  let policyUpdate: { policy: Policy; requestedBy: string } | null = null;
  let messages = 0;
  // The approval in progress, if any: it lives within one run (continueAsNew waits for none).
  const approval: {
    pending: PendingApproval | null;
    decision: { outcome: 'approved' | 'rejected'; by: string } | null;
    superseded: boolean;
  } = { pending: null, decision: null, superseded: false };
  // The owner's value for a supplied type, while one is asked for.
  const supply: { pending: PendingSupply | null; received: SupplyRequest | null } = {
    pending: null,
    received: null,
  };
  const receivedSupply = () => supply.received;
  // The rotation in progress (approval and value waits included), for rotate-now's answer.
  // A request joins it while its value is not made yet (before staging: approval or value wait).
  let running: { rotationId: string; joinable: boolean } | null = null;
  const pendingRotate = (): Requester | null => (s ? s.rotateRequest : early.rotate);
  const queuedRotation = (): SecretStatus['queuedRotation'] => {
    const queued = pendingRotate();
    if (!queued?.rotationId) return null;
    return { rotationId: queued.rotationId, startsAfter: graceWaitEndsAt() };
  };
  /** A rotate-now request waits for grace to end (break-glass does not). */
  const graceWaitEndsAt = (): string | null =>
    s?.graceEndsAt && s.previousVersion !== null ? s.graceEndsAt : null;
  const expiredApprovals = (): string[] => s?.expiredApprovals ?? [];
  const currentDecision = () => approval.decision;

  const status = (): SecretStatus => ({
    tenantId,
    name,
    type,
    state,
    secretId: s?.secretId ?? null,
    currentVersion: s?.currentVersion ?? null,
    previousVersion: s?.previousVersion ?? null,
    nextRotationAt: s?.nextRotationAt ?? null,
    graceEndsAt: s?.graceEndsAt ?? null,
    lastErrorType: s?.lastErrorType ?? null,
    rotationsCompleted: s?.rotationsCompleted ?? 0,
    pendingApproval: approval.pending
      ? { ...approval.pending, approvals: [...approval.pending.approvals] }
      : null,
    paused: s?.paused ?? early.paused,
    pendingSupply: supply.pending ? { ...supply.pending } : null,
    rotationId: running?.rotationId ?? null,
    queuedRotation: queuedRotation(),
    previousCredentialLive: (s?.previousVersion ?? null) !== null,
    revokeRetryAt: s?.revokeRetryAt ?? null,
    repair: s?.repair
      ? {
          rotationId: s.repair.rotationId,
          steps: [...s.repair.steps],
          attempts: s.repair.attempts,
          nextAttemptAt: s.repair.nextAttemptAt,
        }
      : null,
  });
  setHandler(statusQuery, status);
  setHandler(
    supplyValueUpdate,
    (request) => {
      supply.received = request;
      return { accepted: true } as const;
    },
    {
      validator: (request: SupplyRequest) => {
        const refuse = (message: string): never => {
          throw ApplicationFailure.nonRetryable(message, ErrorType.SupplyRefused);
        };
        if (!supply.pending) refuse('no rotation of this secret is waiting for a value');
        if (supply.pending?.rotationId !== request.rotationId)
          refuse(`rotation ${request.rotationId} is not the one waiting for a value`);
        if (supply.received) refuse('a value was already supplied for this rotation');
        if (request.version <= (s?.latestVersion ?? 0))
          refuse(`version ${request.version} is not newer than the secret's latest`);
      },
    },
  );
  // Signals cannot be refused, so a malformed one is ignored (and logged): it must never reach an
  // activity that fails on it. The API validates first; these guard raw signals (the Temporal UI).
  const ignored = (signal: string): void => log.warn('Ignored a malformed signal', { signal });
  setHandler(rotateNowSignal, (request) => {
    if (!isValidRequester(request)) return ignored('rotateNow');
    if (s) s.rotateRequest ??= request;
    else early.rotate ??= request;
    messages += 1;
  });
  setHandler(
    requestRotationUpdate,
    (request: RotateRequest): RotateAnswer => {
      messages += 1;
      if (running?.joinable)
        return { status: 'in_progress', rotationId: running.rotationId, startsAfter: null };
      const queued = pendingRotate();
      if (queued && !queued.rotationId) queued.rotationId = uuid4();
      const next: Requester = queued ?? {
        requestedBy: request.requestedBy,
        reason: request.reason,
        rotationId: uuid4(),
      };
      if (s) s.rotateRequest = next;
      else early.rotate = next;
      const startsAfter = s ? graceWaitEndsAt() : null;
      return {
        // Behind a running rotation, it starts once that one (and any grace it begins) is over.
        status: startsAfter || running || !s ? 'queued' : 'started',
        rotationId: next.rotationId ?? '',
        startsAfter,
      };
    },
    {
      validator: (request: RotateRequest) => {
        if (!isValidRequester(request))
          refuseRotation('INVALID_REQUEST', 'a rotate request needs a requester and a reason');
        if ((s?.retireRequest ?? early.retire) !== null)
          refuseRotation('RETIRING', 'this secret is being retired');
        if (s?.needsAttention)
          refuseRotation(
            'NEEDS_ATTENTION',
            'this secret needs attention after a failure: retry or resume it instead',
          );
        if (s?.paused ?? early.paused)
          refuseRotation('PAUSED', 'this secret is paused: resume it first');
      },
    },
  );
  setHandler(retireSignal, (request) => {
    if (!isValidRequester(request)) return ignored('retire');
    if (s) s.retireRequest ??= request;
    else early.retire ??= request;
    messages += 1;
  });
  setHandler(pauseSignal, () => {
    if (s) s.paused = true;
    else early.paused = true;
    messages += 1;
  });
  setHandler(resumeSignal, (request) => {
    if (!isValidRequester(request)) return ignored('resume');
    if (s?.needsAttention) {
      const now = new Date().toISOString();
      if (s.repair)
        s.repair.nextAttemptAt = now; // Try the owed step now.
      else if (s.attentionCause === 'revoke')
        s.revokeRetryAt = now; // Retry revoking now.
      else {
        s.needsAttention = false;
        s.attentionCause = null;
        s.rotateRequest ??= {
          requestedBy: request.requestedBy,
          reason: `retry after failure: ${request.reason}`,
        };
      }
    }
    if (s) s.paused = false;
    else early.paused = false;
    messages += 1;
  });
  setHandler(updatePolicySignal, (update) => {
    if (!isValidPolicyUpdate(update)) return ignored('updatePolicy');
    policyUpdate = update;
    messages += 1;
  });

  const decide = async (
    approver: string,
    outcome: 'approved' | 'rejected',
    reason: string | null,
  ): Promise<DecisionResult> => {
    // The validator ran in this same activation, so a pending approval exists.
    const pending = approval.pending as PendingApproval;
    if (outcome === 'approved') pending.approvals.push(approver);
    const complete = outcome === 'rejected' || pending.approvals.length >= pending.quorum;
    if (complete) approval.decision = { outcome, by: approver };
    messages += 1;
    await bookkeeping.recordApprovalDecision({
      rotationId: pending.rotationId,
      secretId: s?.secretId ?? '',
      tenantId,
      approver,
      decision: outcome,
      reason,
      updateId: currentUpdateInfo()?.id ?? uuid4(),
      ...(complete && outcome === 'approved' ? { approvedBy: [...pending.approvals] } : {}),
    });
    return {
      rotationId: pending.rotationId,
      outcome: complete ? outcome : 'awaiting_more_approvals',
      approvals: [...pending.approvals],
      quorum: pending.quorum,
    };
  };
  setHandler(approveUpdate, (d) => decide(d.approver, 'approved', d.comment ?? null), {
    validator: (d: ApproveRequest) =>
      checkDecision(approval.pending, expiredApprovals(), d, 'approve'),
  });
  setHandler(rejectUpdate, (d) => decide(d.approver, 'rejected', d.reason), {
    validator: (d: RejectRequest) =>
      checkDecision(approval.pending, expiredApprovals(), d, 'reject'),
  });
  setHandler(
    breakGlassUpdate,
    async (request) => {
      const emergency: Requester = {
        requestedBy: request.requestedBy,
        reason: request.reason,
        breakGlass: true,
      };
      // An emergency replaces any ordinary request, and stands in for a pending approval.
      if (s) s.rotateRequest = emergency;
      else early.rotate = emergency;
      if (approval.pending) approval.superseded = true;
      messages += 1;
      if (s) {
        await bookkeeping.recordStateChange({
          secretId: s.secretId,
          tenantId,
          state,
          action: 'rotation.break_glass',
          actor: request.requestedBy,
          outcome: 'info',
          details: { reason: request.reason },
          idempotencyKey: `break-glass:${currentUpdateInfo()?.id ?? uuid4()}`,
        });
      }
      await notify(NotificationKind.BreakGlass, ['security'], {
        requestedBy: request.requestedBy,
        reason: request.reason,
      });
      return { accepted: true } as const;
    },
    { validator: checkBreakGlass },
  );

  const setState = (next: SecretState): void => {
    state = next;
    upsertSearchAttributes([{ key: RotationStateKey, value: next }]);
  };
  const setNextRotation = (iso: string): void => {
    if (s) s.nextRotationAt = iso;
    upsertSearchAttributes([{ key: NextRotationAtKey, value: new Date(iso) }]);
  };
  const recordState = (
    next: SecretState,
    action: string,
    actor: string,
    extra: { lastErrorType?: string | null; policy?: Policy; rotationId?: string } = {},
  ) => {
    setState(next);
    if (!s) return Promise.resolve();
    return bookkeeping.recordStateChange({
      secretId: s.secretId,
      tenantId,
      state: next,
      action,
      actor,
      nextRotationAt: s.nextRotationAt,
      idempotencyKey: uuid4(),
      ...extra,
    });
  };

  const notify = async (
    kind: NotificationEvent['kind'],
    audiences: Audience[],
    extra: Partial<NotificationEvent> = {},
  ): Promise<void> => {
    if (!patched(NOTIFICATIONS_PATCH)) return;
    for (const audience of audiences) {
      try {
        await notifier.enqueueNotification({
          kind,
          audience,
          tenantId,
          secretName: name,
          secretType: type,
          workflowId: workflowInfo().workflowId,
          at: new Date().toISOString(),
          ...extra,
        });
      } catch {
        // A notification that cannot even be queued is visible in this workflow's history as a
        // failed activity; it never fails or holds up the rotation.
      }
    }
  };
  /** When to tell the tenant a scheduled rotation is coming, or null if not (again). */
  const upcomingNoticeAt = (st: LifecycleState): number | null => {
    const lead = st.policy.upcomingNoticeSeconds ?? DEFAULT_UPCOMING_NOTICE_SECONDS;
    if (lead <= 0 || st.upcomingNoticeFor === st.nextRotationAt || st.paused || st.needsAttention)
      return null;
    const at = Date.parse(st.nextRotationAt) - lead * 1000;
    // Intervals shorter than the lead time get no notice: it would follow every rotation.
    if (st.lastRotatedAt && at <= Date.parse(st.lastRotatedAt)) return null;
    return patched(NOTIFICATIONS_PATCH) ? at : null;
  };

  /** Runs an activity whose failure must not stop what follows (it is in history as failed). */
  const bestEffort = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      log.warn('A bookkeeping step failed; the lifecycle goes on', { what });
    }
  };
  /** How long before the n-th retry of something owed (revoke, repair): doubling, capped. */
  const repairDelayMs = (policy: Policy, attempts: number): number =>
    Math.min(
      MAX_REPAIR_INTERVAL_SECONDS,
      (policy.repairEverySeconds ?? DEFAULT_REPAIR_EVERY_SECONDS) * 2 ** Math.min(attempts, 16),
    ) * 1000;
  /**
   * A failure no retry fixed: the secret waits in NEEDS_ATTENTION, ops and the tenant hear what is
   * actually true of the credentials, and the workflow goes on answering every message.
   */
  const enterAttention = async (
    target: LifecycleState,
    cause: NonNullable<LifecycleState['attentionCause']>,
    errorType: string,
    credentials: CredentialsAfterFailure,
    rotationId?: string,
  ): Promise<void> => {
    target.needsAttention = true;
    target.attentionCause = cause;
    target.lastErrorType = errorType;
    setState(SecretState.NeedsAttention);
    await bestEffort('record needs-attention', () =>
      bookkeeping.recordStateChange({
        secretId: target.secretId,
        tenantId,
        state: SecretState.NeedsAttention,
        action: 'secret.needs_attention',
        actor: 'rotor',
        outcome: 'failure',
        lastErrorType: errorType,
        details: { cause, credentials },
        idempotencyKey: uuid4(),
        ...(rotationId ? { rotationId } : {}),
      }),
    );
    await notify(NotificationKind.RotationFailed, ['ops', 'tenant'], {
      errorType,
      credentials,
      ...(rotationId ? { rotationId } : {}),
    });
  };
  const rotationTarget = (target: LifecycleState, aside: boolean): RotationTarget => ({
    secretId: target.secretId,
    tenantId,
    type,
    vaultPath,
    policy: target.policy,
    latestVersion: target.latestVersion,
    currentVersion: target.currentVersion,
    ...(input.target ? { spec: input.target } : {}),
    ...(aside ? { stagingPath: secretStagingPath(tenantId, name) } : {}),
  });

  if (!s) {
    upsertSearchAttributes([
      { key: TenantIdKey, value: tenantId },
      { key: SecretTypeKey, value: type },
      { key: SecretNameKey, value: name },
    ]);
    setState(SecretState.Rotating);
    // Registering cannot be skipped: until the secret has a row, retry it (a resume retries now).
    for (let attempt = 0; !s; attempt += 1) {
      try {
        await provision(input, early);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        const current: LifecycleState | undefined = s;
        if (current) {
          await enterAttention(current, 'rotation', errorTypeOf(err), 'old-works');
          break;
        }
        setState(SecretState.NeedsAttention);
        const seen = messages;
        await condition(() => messages !== seen, repairDelayMs(input.policy, attempt));
        setState(SecretState.Rotating);
      }
    }
  }
  const st: LifecycleState = s as unknown as LifecycleState;

  for (;;) {
    try {
      if ((await lifecycleStep(st)) === 'retire') break;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // Whatever step failed past its retries, the lifecycle lives on in NEEDS_ATTENTION.
      approval.pending = null;
      supply.pending = null;
      running = null;
      await enterAttention(st, 'rotation', errorTypeOf(err), 'old-works');
    }
  }

  // Retire: revoke what is live and apply the Vault deletion policy, retried until it works.
  // The loop ends only on a retire request.
  const retire = st.retireRequest as NonNullable<LifecycleState['retireRequest']>;
  st.repair = null;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await bookkeeping.retireSecret({
        secretId: st.secretId,
        tenantId,
        vaultPath,
        requestedBy: retire.requestedBy,
        reason: retire.reason,
        vaultDeletion: retire.vaultDeletion ?? 'destroy-all',
        idempotencyKey: `${workflowInfo().workflowId}:retired:${workflowInfo().runId}`,
        ...(input.target ? { target: input.target } : {}),
      });
      break;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      if (attempt === 0) await enterAttention(st, 'rotation', errorTypeOf(err), 'previous-live');
      const seen = messages;
      await condition(() => messages !== seen, repairDelayMs(st.policy, attempt));
    }
  }
  setState(SecretState.Retired);
  await condition(allHandlersFinished);
  return status();

  /** One turn of the main loop: policy, owed repairs, grace and revoke, then wait or rotate. */
  /** One turn of the main loop: policy, owed repairs, grace and revoke, then wait or rotate. */
  async function lifecycleStep(st: LifecycleState): Promise<'retire' | 'again'> {
    if (policyUpdate) {
      const update: { policy: Policy; requestedBy: string } = policyUpdate;
      policyUpdate = null;
      st.policy = update.policy;
      setNextRotation(
        await bookkeeping.computeNextRotation({
          policy: st.policy,
          from: st.lastRotatedAt ?? new Date().toISOString(),
        }),
      );
      await recordState(state, 'policy.updated', update.requestedBy, { policy: st.policy });
    }

    if (st.repair && !st.retireRequest) {
      await repairRotation(st, st.repair);
      return 'again';
    }

    // Grace: the previous credential stays valid until graceEndsAt, then it is revoked.
    if (st.graceEndsAt && st.previousVersion !== null && !st.retireRequest) {
      const previous = st.previousVersion;
      const retryAt = st.revokeRetryAt ?? null;
      const seen = messages;
      // Break-glass ends grace early: the previous credential is revoked before rotating again,
      // so never more than two are live. While a failed revoke waits to be retried, any message
      // (a resume retries at once) wakes it to look again.
      await condition(
        () =>
          st.retireRequest !== null ||
          (retryAt === null && st.rotateRequest?.breakGlass === true) ||
          (retryAt !== null && messages !== seen),
        msUntil(retryAt ?? st.graceEndsAt),
      );
      if (st.revokeRetryAt && Date.now() < Date.parse(st.revokeRetryAt) && !st.retireRequest) {
        return 'again';
      }
      try {
        await bookkeeping.revokeVersion({
          rotationId: uuid4(),
          secretId: st.secretId,
          tenantId,
          vaultPath,
          version: previous,
          ...(input.target ? { target: input.target } : {}),
        });
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        if (st.retireRequest) return 'retire'; // Retiring revokes everything anyway.
        // The previous credential is still live: say so, and try again on a schedule of its own.
        const attempts = (st.revokeAttempts ?? 0) + 1;
        st.revokeAttempts = attempts;
        st.revokeRetryAt = new Date(
          Date.now() + repairDelayMs(st.policy, attempts - 1),
        ).toISOString();
        if (attempts === 1 || st.attentionCause !== 'revoke') {
          await enterAttention(st, 'revoke', errorTypeOf(err), 'previous-live');
        }
        return 'again';
      }
      const repaired = st.revokeRetryAt != null;
      st.previousVersion = null;
      st.graceEndsAt = null;
      st.revokeAttempts = 0;
      st.revokeRetryAt = null;
      await notify(NotificationKind.CredentialRevoked, ['tenant'], { version: previous });
      if (repaired && st.attentionCause === 'revoke') {
        st.needsAttention = false;
        st.attentionCause = null;
        st.lastErrorType = null;
        await notify(NotificationKind.RotationRepaired, ['ops', 'tenant'], { version: previous });
      }
      if (!st.retireRequest) {
        await recordState(
          st.needsAttention
            ? SecretState.NeedsAttention
            : st.paused
              ? SecretState.Paused
              : SecretState.Active,
          'grace.ended',
          'rotor',
        );
        // A full cycle is done: start a fresh run with a short history.
        await condition(allHandlersFinished);
        await continueAsNew<typeof secretLifecycle>({ ...input, carried: st });
      }
    }

    if (st.retireRequest) return 'retire';
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof secretLifecycle>({ ...input, carried: st });
    }

    // Wait for the due time, a rotate request, or any message that changes what to do.
    const canRotate = (!st.paused && !st.needsAttention) || st.rotateRequest?.breakGlass === true;
    const due =
      canRotate && (st.rotateRequest !== null || Date.now() >= Date.parse(st.nextRotationAt));
    if (!due) {
      const noticeAt = upcomingNoticeAt(st);
      if (noticeAt !== null && Date.now() >= noticeAt) {
        st.upcomingNoticeFor = st.nextRotationAt;
        await notify(NotificationKind.RotationUpcoming, ['tenant'], {
          nextRotationAt: st.nextRotationAt,
        });
        return 'again';
      }
      const seen = messages;
      if (st.paused && state !== SecretState.Paused)
        await recordState(SecretState.Paused, 'secret.paused', 'api');
      if (!st.paused && state === SecretState.Paused)
        await recordState(SecretState.Active, 'secret.resumed', 'api');
      if (st.needsAttention || st.paused) await condition(() => messages !== seen);
      else {
        const wakeAt = Math.min(Date.parse(st.nextRotationAt), noticeAt ?? Infinity);
        await condition(() => messages !== seen, Math.max(1, wakeAt - Date.now()));
      }
      return 'again';
    }

    const request = st.rotateRequest ?? SCHEDULE;
    st.rotateRequest = null;
    setState(SecretState.Rotating);
    await rotate(st, request);
    return 'again';
  }

  /**
   * A rotation that stopped half-way: retry what it owes (compensations, or the promote that rolls
   * it forward) until Vault and the target agree again, then say so.
   */
  async function repairRotation(st: LifecycleState, repair: Repair): Promise<void> {
    const seen = messages;
    await condition(
      () => messages !== seen || st.retireRequest !== null,
      msUntil(repair.nextAttemptAt),
    );
    if (st.retireRequest || Date.now() < Date.parse(repair.nextAttemptAt)) return;
    let previousVersion: number | null = null;
    let lastStep: RepairStep | null = null;
    try {
      while (repair.steps[0]) {
        lastStep = repair.steps[0];
        const done = await runRepairStep(
          rotationTarget(st, repair.stagedAside === true),
          repair.rotationId,
          repair.version,
          repair.steps[0],
        );
        previousVersion = done.previousVersion;
        // Consumers already read the new value: the only way to agree is forward.
        repair.steps = done.published ? ['promoteVersion'] : repair.steps.slice(1);
      }
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      repair.attempts += 1;
      repair.nextAttemptAt = new Date(
        Date.now() + repairDelayMs(st.policy, repair.attempts),
      ).toISOString();
      return;
    }
    st.repair = null;
    const request: Requester = { requestedBy: repair.requestedBy, reason: 'repair' };
    const rolledForward = lastStep === 'promoteVersion';
    if (rolledForward) {
      // The target already took the new credential: promoted, it is the rotation's success.
      st.needsAttention = false;
      st.attentionCause = null;
      await completeRotation(
        st,
        { ok: true, rotationId: repair.rotationId, version: repair.version, previousVersion },
        request,
        repair.expiresAt ?? null,
      );
      await notify(NotificationKind.RotationRepaired, ['ops', 'tenant'], {
        rotationId: repair.rotationId,
        version: repair.version,
      });
      return;
    }
    // Undone: the old credential works again; the failed rotation waits for a human (resume).
    st.attentionCause = 'rotation';
    await bookkeeping.finishRotation({
      rotationId: repair.rotationId,
      secretId: st.secretId,
      tenantId,
      status: RotationStatus.Failed,
      secretState: SecretState.NeedsAttention,
      errorType: repair.errorType,
      nextRotationAt: st.nextRotationAt,
      actor: repair.requestedBy,
    });
    await notify(NotificationKind.RotationRepaired, ['ops', 'tenant'], {
      rotationId: repair.rotationId,
      errorType: repair.errorType,
      credentials: 'old-works',
    });
  }

  async function rotate(
    target: LifecycleState,
    request: Requester,
    options: { initial?: boolean } = {},
  ): Promise<void> {
    // The caller has set ROTATING; recorded histories depend on that order of commands.
    const rotationId = request.rotationId ?? uuid4();
    running = { rotationId, joinable: true };
    try {
      await rotateOnce(target, request, rotationId, options);
    } finally {
      running = null;
    }
  }

  async function rotateOnce(
    target: LifecycleState,
    request: Requester,
    rotationId: string,
    options: { initial?: boolean },
  ): Promise<void> {
    // Decided once per rotation, before anything is staged, so every step uses one layout.
    const aside = patched(CONSUMER_LAYOUT_PATCH);
    await rotationActivities(target.policy).beginRotation({
      rotationId,
      secretId: target.secretId,
      tenantId,
      reason: request.reason,
      requestedBy: request.requestedBy,
      fromVersion: target.currentVersion,
      ...(request.bulkId ? { bulkId: request.bulkId } : {}),
    });
    // Creating a secret is not a rotation of a live credential; every later rotation of a
    // sensitive type waits for security, unless an admin broke the glass.
    if (target.policy.requiresApproval && !options.initial && !request.breakGlass) {
      const gate = await awaitApproval(target, rotationId, request);
      if (gate !== 'approved' && gate !== 'superseded') {
        setNextRotation(
          await bookkeeping.computeNextRotation({
            policy: target.policy,
            from: new Date().toISOString(),
          }),
        );
        const next = target.paused ? SecretState.Paused : SecretState.Active;
        setState(next);
        await bookkeeping.finishRotation({
          rotationId,
          secretId: target.secretId,
          tenantId,
          status: gate === 'expired' ? RotationStatus.ApprovalExpired : RotationStatus.Rejected,
          secretState: next,
          nextRotationAt: target.nextRotationAt,
          actor: gate === 'expired' ? 'rotor' : (approval.decision?.by ?? 'rotor'),
        });
        if (gate === 'expired') {
          // Said after the next attempt is scheduled, so the message can tell when it is.
          await notify(NotificationKind.ApprovalExpired, ['security', 'tenant'], {
            rotationId,
            requestedBy: request.requestedBy,
            reason: request.reason,
            nextRotationAt: target.nextRotationAt,
          });
        }
        return;
      }
      setState(SecretState.Rotating);
    }
    // Types Rotor cannot generate wait for their owner's value (staged in Vault by the API).
    let supplied: SupplyRequest | null = null;
    if (!target.policy.autoGenerate) {
      supplied = await awaitValue(target, rotationId, aside);
      if (!supplied) {
        // Retired while waiting: nothing was staged, the rotation simply ends.
        await bookkeeping.finishRotation({
          rotationId,
          secretId: target.secretId,
          tenantId,
          status: RotationStatus.Failed,
          secretState: state,
          errorType: 'SecretRetired',
          nextRotationAt: target.nextRotationAt,
          actor: 'rotor',
        });
        return;
      }
    }
    // From here the new value is made: a request now needs a rotation of its own.
    if (running) running.joinable = false;
    const outcome = await runRotation(
      {
        ...rotationTarget(target, aside),
        ...(supplied ? { supplied: { version: supplied.version } } : {}),
      },
      rotationId,
    );
    if (outcome.ok) {
      await completeRotation(target, outcome, request, supplied?.expiresAt ?? null);
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
      await enterAttention(target, 'repair', outcome.errorType, 'reconciling', outcome.rotationId);
      return;
    }
    // Retries ran out: the old credential keeps working, a human decides what next (resume).
    target.lastErrorType = outcome.errorType;
    target.needsAttention = true;
    target.attentionCause = 'rotation';
    setState(SecretState.NeedsAttention);
    await bookkeeping.finishRotation({
      rotationId: outcome.rotationId,
      secretId: target.secretId,
      tenantId,
      status: RotationStatus.Failed,
      secretState: SecretState.NeedsAttention,
      errorType: outcome.errorType,
      nextRotationAt: target.nextRotationAt,
      actor: request.requestedBy,
    });
    // The alert: ops and the owning tenant hear at once that a human is needed.
    await notify(NotificationKind.RotationFailed, ['ops', 'tenant'], {
      rotationId: outcome.rotationId,
      errorType: outcome.errorType,
      credentials: 'old-works',
    });
  }

  /** A promoted rotation: versions move on, grace starts, the next rotation is scheduled. */
  async function completeRotation(
    target: LifecycleState,
    outcome: Extract<RotationOutcome, { ok: true }>,
    request: Requester,
    expiresAt: string | null,
  ): Promise<void> {
    const now = new Date().toISOString();
    const ids = { rotationId: outcome.rotationId, secretId: target.secretId, tenantId };
    target.latestVersion = Math.max(target.latestVersion, outcome.version);
    target.currentVersion = outcome.version;
    target.previousVersion = outcome.previousVersion;
    target.lastRotatedAt = now;
    target.lastErrorType = null;
    target.needsAttention = false;
    target.attentionCause = null;
    target.rotationsCompleted += 1;
    target.graceEndsAt =
      outcome.previousVersion === null
        ? null
        : new Date(Date.now() + target.policy.graceSeconds * 1000).toISOString();
    setNextRotation(await bookkeeping.computeNextRotation({ policy: target.policy, from: now }));
    if (expiresAt) {
      // A certificate is renewed a lead time before it expires, whatever the interval says.
      const lead = supplyPolicy(target.policy).expiryLeadSeconds * 1000;
      setNextRotation(new Date(Math.max(Date.now(), Date.parse(expiresAt) - lead)).toISOString());
    }
    const next = target.graceEndsAt ? SecretState.InGrace : SecretState.Active;
    setState(next);
    await bookkeeping.finishRotation({
      ...ids,
      status: RotationStatus.Completed,
      secretState: next,
      toVersion: outcome.version,
      nextRotationAt: target.nextRotationAt,
      actor: request.requestedBy,
    });
    await notify(NotificationKind.RotationCompleted, ['tenant'], {
      rotationId: outcome.rotationId,
      version: outcome.version,
      previousVersion: outcome.previousVersion,
      graceEndsAt: target.graceEndsAt,
      nextRotationAt: target.nextRotationAt,
    });
  }

  /**
   * AWAITING_APPROVAL: a durable wait for security's decision, with reminders to approvers until
   * the escalation deadline, escalation to a second channel, then expiry. Nothing is staged yet.
   */
  async function awaitApproval(
    target: LifecycleState,
    rotationId: string,
    request: Requester,
  ): Promise<'approved' | 'rejected' | 'expired' | 'superseded' | 'retired'> {
    const rules = approvalPolicy(target.policy);
    const requestedAt = Date.now();
    const at = (seconds: number): number => requestedAt + seconds * 1000;
    const pending: PendingApproval = {
      rotationId,
      requestedBy: request.requestedBy,
      reason: request.reason,
      requestedAt: new Date(requestedAt).toISOString(),
      escalatesAt: new Date(at(rules.escalateAfterSeconds)).toISOString(),
      expiresAt: new Date(at(rules.expireAfterSeconds)).toISOString(),
      quorum: rules.quorum,
      approvals: [],
      escalated: false,
    };
    approval.pending = pending;
    approval.decision = null;
    approval.superseded = false;
    setState(SecretState.AwaitingApproval);
    await bookkeeping.requestApproval({
      rotationId,
      secretId: target.secretId,
      tenantId,
      requestedBy: request.requestedBy,
      reason: request.reason,
      quorum: rules.quorum,
      expiresAt: pending.expiresAt,
    });
    const approvalContext = {
      rotationId,
      requestedBy: request.requestedBy,
      reason: request.reason,
      expiresAt: pending.expiresAt,
    };
    await notify(NotificationKind.ApprovalRequested, ['security'], approvalContext);
    const escalatesAt = at(rules.escalateAfterSeconds);
    const expiresAt = at(rules.expireAfterSeconds);
    let nextReminder = at(rules.remindEverySeconds);
    let outcome: 'approved' | 'rejected' | 'expired' | 'superseded' | 'retired' | null = null;
    while (outcome === null) {
      const wakeAt = Math.min(
        expiresAt,
        pending.escalated ? Infinity : Math.min(escalatesAt, nextReminder),
      );
      await condition(
        () => approval.decision !== null || approval.superseded || target.retireRequest !== null,
        Math.max(1, wakeAt - Date.now()),
      );
      const now = Date.now();
      // Read through a function: handlers change it between awaits, which narrowing cannot see.
      const decision = currentDecision();
      if (decision) outcome = decision.outcome;
      else if (approval.superseded) outcome = 'superseded';
      else if (target.retireRequest) outcome = 'retired';
      else if (now >= expiresAt) outcome = 'expired';
      else if (!pending.escalated && now >= escalatesAt) {
        pending.escalated = true;
        await recordState(SecretState.AwaitingApproval, 'approval.escalated', 'rotor', {
          rotationId,
        });
        await notify(NotificationKind.ApprovalEscalated, ['security'], approvalContext);
      } else if (now >= nextReminder) {
        await recordState(SecretState.AwaitingApproval, 'approval.reminded', 'rotor', {
          rotationId,
        });
        await notify(NotificationKind.ApprovalReminded, ['security'], approvalContext);
        nextReminder += rules.remindEverySeconds * 1000;
      }
    }
    approval.pending = null;
    if (outcome === 'expired') {
      // Remembered so a late decision is told why it is refused, even after continueAsNew.
      target.expiredApprovals = [...(target.expiredApprovals ?? []), rotationId].slice(-20);
    }
    if (outcome === 'superseded') {
      await recordState(SecretState.Rotating, 'approval.superseded', 'rotor', { rotationId });
    }
    // Decision rows are written by the update handlers; let them finish before moving on.
    await condition(allHandlersFinished);
    return outcome;
  }

  /**
   * AWAITING_VALUE: a durable wait for the owner's value, reminding them until it arrives. Past
   * the deadline the secret is OVERDUE and keeps waiting. Returns null if retired meanwhile.
   */
  async function awaitValue(
    target: LifecycleState,
    rotationId: string,
    aside: boolean,
  ): Promise<SupplyRequest | null> {
    const rules = supplyPolicy(target.policy);
    const requestedAt = Date.now();
    const dueAt = requestedAt + rules.deadlineSeconds * 1000;
    const dueIso = new Date(dueAt).toISOString();
    const pending: PendingSupply = {
      rotationId,
      requestedAt: new Date(requestedAt).toISOString(),
      dueAt: dueIso,
      overdue: false,
      ...(aside ? { stagingPath: secretStagingPath(tenantId, name) } : {}),
    };
    supply.pending = pending;
    supply.received = null;
    await recordState(SecretState.AwaitingValue, 'value.requested', 'rotor', { rotationId });
    await notify(NotificationKind.ValueNeeded, ['tenant'], { rotationId, expiresAt: dueIso });
    let nextReminder = requestedAt + rules.remindEverySeconds * 1000;
    while (!receivedSupply() && !target.retireRequest) {
      const wakeAt = pending.overdue ? nextReminder : Math.min(nextReminder, dueAt);
      await condition(
        () => supply.received !== null || target.retireRequest !== null,
        Math.max(1, wakeAt - Date.now()),
      );
      if (receivedSupply() || target.retireRequest) break;
      const now = Date.now();
      if (!pending.overdue && now >= dueAt) {
        pending.overdue = true;
        await recordState(SecretState.Overdue, 'value.overdue', 'rotor', { rotationId });
        await notify(NotificationKind.ValueOverdue, ['tenant', 'ops'], { rotationId });
      } else if (now >= nextReminder) {
        await recordState(state, 'value.reminded', 'rotor', { rotationId });
        await notify(NotificationKind.ValueReminder, ['tenant'], { rotationId, expiresAt: dueIso });
        nextReminder += rules.remindEverySeconds * 1000;
      }
    }
    const received = receivedSupply();
    supply.pending = null;
    await condition(allHandlersFinished);
    if (!received) return null;
    await recordState(SecretState.Rotating, 'value.supplied', received.suppliedBy, { rotationId });
    return received;
  }

  async function provision(
    first: SecretLifecycleInput,
    pending: typeof early,
  ): Promise<LifecycleState> {
    const secretId = await bookkeeping.registerSecret({
      tenantId,
      name,
      type,
      policy: first.policy,
      workflowId: workflowInfo().workflowId,
      vaultPath,
      requestedBy: first.requestedBy,
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
    s = fresh;
    // The first version is provisioned like any rotation, so it is audited the same way.
    await rotate(fresh, { requestedBy: first.requestedBy, reason: 'initial' }, { initial: true });
    return fresh;
  }
}

function msUntil(iso: string | null): number {
  return Math.max(1, (iso ? Date.parse(iso) : Date.now()) - Date.now());
}
