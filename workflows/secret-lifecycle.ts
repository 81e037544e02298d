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
  ApplicationFailure,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  DEFAULT_UPCOMING_NOTICE_SECONDS,
  NON_RETRYABLE_ERROR_TYPES,
  NotificationKind,
  RotationStatus,
  SecretState,
  approvalPolicy,
  supplyPolicy,
  ErrorType,
} from '../domain';
import type { Audience, NotificationEvent } from '../domain';
import type { Policy, SecretType, TargetSpec } from '../domain';
import { checkBreakGlass, checkDecision } from './approval-rules';
import {
  approveUpdate,
  breakGlassUpdate,
  rejectUpdate,
  pauseSignal,
  resumeSignal,
  retireSignal,
  rotateNowSignal,
  statusQuery,
  supplyValueUpdate,
  updatePolicySignal,
} from './messages';
import type {
  ApproveRequest,
  DecisionResult,
  PendingApproval,
  PendingSupply,
  RejectRequest,
  SupplyRequest,
  Requester,
  SecretStatus,
} from './messages';
import { rotationActivities, runRotation } from './rotation';
import {
  NextRotationAtKey,
  RotationStateKey,
  SecretNameKey,
  SecretTypeKey,
  TenantIdKey,
} from './search-attributes';
import type { LifecycleState } from './state';

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

// Bookkeeping activities (database rows, audit, schedule): short, retried generously.
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
});

// Handing an event to the notifier is quick; if even that fails, the rotation goes on.
const notifier = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumAttempts: 3 },
});

/** Notifications were added after histories were recorded: old runs replay without them. */
const NOTIFICATIONS_PATCH = 'notifications-v1';

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
  setHandler(rotateNowSignal, (request) => {
    if (s) s.rotateRequest ??= request;
    else early.rotate ??= request;
    messages += 1;
  });
  setHandler(retireSignal, (request) => {
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
    if (s?.needsAttention) {
      s.needsAttention = false;
      s.rotateRequest ??= {
        requestedBy: request.requestedBy,
        reason: `retry after failure: ${request.reason}`,
      };
    }
    if (s) s.paused = false;
    else early.paused = false;
    messages += 1;
  });
  setHandler(updatePolicySignal, (update) => {
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

  if (!s) {
    upsertSearchAttributes([
      { key: TenantIdKey, value: tenantId },
      { key: SecretTypeKey, value: type },
      { key: SecretNameKey, value: name },
    ]);
    setState(SecretState.Rotating);
    s = await provision(input, early);
  }
  const st: LifecycleState = s;

  for (;;) {
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

    // Grace: the previous credential stays valid until graceEndsAt, then it is revoked.
    if (st.graceEndsAt && st.previousVersion !== null && !st.retireRequest) {
      const previous = st.previousVersion;
      // Break-glass ends grace early: the previous credential is revoked before rotating again,
      // so never more than two are live.
      await condition(
        () => st.retireRequest !== null || st.rotateRequest?.breakGlass === true,
        msUntil(st.graceEndsAt),
      );
      await bookkeeping.revokeVersion({
        rotationId: uuid4(),
        secretId: st.secretId,
        tenantId,
        vaultPath,
        version: previous,
        ...(input.target ? { target: input.target } : {}),
      });
      st.previousVersion = null;
      st.graceEndsAt = null;
      await notify(NotificationKind.CredentialRevoked, ['tenant'], { version: previous });
      if (!st.retireRequest) {
        await recordState(
          st.paused ? SecretState.Paused : SecretState.Active,
          'grace.ended',
          'rotor',
        );
        // A full cycle is done: start a fresh run with a short history.
        await condition(allHandlersFinished);
        await continueAsNew<typeof secretLifecycle>({ ...input, carried: st });
      }
    }

    if (st.retireRequest) break;
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
        continue;
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
      continue;
    }

    const request = st.rotateRequest ?? SCHEDULE;
    st.rotateRequest = null;
    setState(SecretState.Rotating);
    await rotate(st, request);
  }

  // Retire: revoke what is live and apply the Vault deletion policy.
  const retire = st.retireRequest;
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
  setState(SecretState.Retired);
  await condition(allHandlersFinished);
  return status();

  async function rotate(
    target: LifecycleState,
    request: Requester,
    options: { initial?: boolean } = {},
  ): Promise<void> {
    // The caller has set ROTATING; recorded histories depend on that order of commands.
    const rotationId = uuid4();
    await rotationActivities(target.policy).beginRotation({
      rotationId,
      secretId: target.secretId,
      tenantId,
      reason: request.reason,
      requestedBy: request.requestedBy,
      fromVersion: target.currentVersion,
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
      supplied = await awaitValue(target, rotationId);
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
    const outcome = await runRotation(
      {
        secretId: target.secretId,
        tenantId,
        type,
        vaultPath,
        policy: target.policy,
        latestVersion: target.latestVersion,
        currentVersion: target.currentVersion,
        ...(input.target ? { spec: input.target } : {}),
        ...(supplied ? { supplied: { version: supplied.version } } : {}),
      },
      rotationId,
    );
    const now = new Date().toISOString();
    const ids = { rotationId: outcome.rotationId, secretId: target.secretId, tenantId };
    if (outcome.ok) {
      target.latestVersion = outcome.version;
      target.currentVersion = outcome.version;
      target.previousVersion = outcome.previousVersion;
      target.lastRotatedAt = now;
      target.lastErrorType = null;
      target.needsAttention = false;
      target.rotationsCompleted += 1;
      target.graceEndsAt =
        outcome.previousVersion === null
          ? null
          : new Date(Date.now() + target.policy.graceSeconds * 1000).toISOString();
      setNextRotation(await bookkeeping.computeNextRotation({ policy: target.policy, from: now }));
      if (supplied?.expiresAt) {
        // A certificate is renewed a lead time before it expires, whatever the interval says.
        const lead = supplyPolicy(target.policy).expiryLeadSeconds * 1000;
        setNextRotation(
          new Date(Math.max(Date.now(), Date.parse(supplied.expiresAt) - lead)).toISOString(),
        );
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
    } else {
      // Retries ran out: the old credential keeps working, a human decides what next (resume).
      target.latestVersion = outcome.latestVersion;
      target.lastErrorType = outcome.errorType;
      target.needsAttention = true;
      setState(SecretState.NeedsAttention);
      await bookkeeping.finishRotation({
        ...ids,
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
      });
    }
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
