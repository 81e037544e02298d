import {
  proxyActivities,
  proxyLocalActivities,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import {
  DEFAULT_REPAIR_EVERY_SECONDS,
  MAX_REPAIR_INTERVAL_SECONDS,
  SecretState,
} from '../../domain';
import type { Policy, RequestOrigin, SecretType, TargetSpec } from '../../domain';
import { bookkeepingLocalOptions, bookkeepingOptions } from '../activity-options';
import type {
  PendingApproval,
  PendingSupply,
  Requester,
  SecretStatus,
  SupplyRequest,
} from '../messages';
import { asActivityFailures } from '../local-activity-failures';
import { NextRotationAtKey, RotationStateKey } from '../search-attributes';
import type { LifecycleState } from '../state';

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
  /**
   * An existing value brought in at create: already staged in Vault by control/ (never carried
   * here), so the first rotation promotes it instead of generating or waiting for one.
   */
  imported?: ImportedValue;
  /**
   * Where the API request that created the secret came from, for the rows provisioning writes
   * (registered, the first version's rotation). Not secret; absent for starts outside the API.
   */
  origin?: RequestOrigin;
}

/** Where an imported value waits: its rotation id, the consumer version it becomes, its expiry. */
export interface ImportedValue {
  rotationId: string;
  version: number;
  expiresAt: string | null;
}

/** The workflow's signature, for continueAsNew (the function itself lives in the entry point). */
export type LifecycleWorkflow = (input: SecretLifecycleInput) => Promise<SecretStatus>;

/**
 * Everything one run of the lifecycle holds. Handlers change it between awaits, so phases read it
 * through this object, never through a copy taken earlier: a condition() predicate must see the
 * handler's change in the same activation.
 */
export interface LifecycleContext {
  readonly input: SecretLifecycleInput;
  /** The carried state; undefined until the secret is registered (provision sets it). */
  s: LifecycleState | undefined;
  /** The state last written to the RotationState search attribute (and shown by status). */
  state: SecretState;
  /** Messages that arrive before provisioning finishes, kept until there is a state to apply them to. */
  readonly early: {
    rotate: Requester | null;
    retire: LifecycleState['retireRequest'];
    paused: boolean;
  };
  policyUpdate: { policy: Policy; requestedBy: string; origin?: RequestOrigin } | null;
  /**
   * Where the latest pause or resume request came from, for the secret.paused or secret.resumed
   * row it leads to (null for a raw signal without one). Kept within the run, like policyUpdate.
   */
  pauseOrigin: RequestOrigin | null;
  /** Counts every message; a wait compares it with a snapshot taken before it began. */
  messages: number;
  /** The approval in progress, if any: it lives within one run (continueAsNew waits for none). */
  readonly approval: {
    pending: PendingApproval | null;
    decision: { outcome: 'approved' | 'rejected'; by: string } | null;
    superseded: boolean;
  };
  /** The owner's value for a supplied type, while one is asked for. */
  readonly supply: { pending: PendingSupply | null; received: SupplyRequest | null };
  /**
   * The rotation in progress (approval and value waits included), for rotate-now's answer. A
   * request joins it while its value is not made yet (before staging: approval or value wait).
   */
  running: { rotationId: string; joinable: boolean } | null;
  /**
   * The rotation waiting for the maintenance window (and when it opens), and whether a rotate-now
   * request asked it to start at once instead.
   */
  readonly window: { waiting: { rotationId: string; opensAt: string } | null; startNow: boolean };
}

export function createContext(input: SecretLifecycleInput): LifecycleContext {
  const s = input.carried;
  return {
    input,
    s,
    // A run continued while a step is owed (a revocation, a repair) still needs attention.
    state: s
      ? s.paused
        ? SecretState.Paused
        : s.needsAttention
          ? SecretState.NeedsAttention
          : SecretState.Active
      : SecretState.Rotating,
    early: { rotate: null, retire: null, paused: false },
    policyUpdate: null,
    pauseOrigin: null,
    messages: 0,
    approval: { pending: null, decision: null, superseded: false },
    supply: { pending: null, received: null },
    running: null,
    window: { waiting: null, startNow: false },
  };
}

export const bookkeeping = proxyActivities<Activities>(bookkeepingOptions);

/** Bookkeeping run inside the workflow task (the fewer-round-trips path of a rotation). */
export const localBookkeeping = asActivityFailures(
  proxyLocalActivities<Activities>(bookkeepingLocalOptions),
);

/** The one place the secret's state changes: the field and its search attribute together. */
export function setState(ctx: LifecycleContext, next: SecretState): void {
  ctx.state = next;
  upsertSearchAttributes([{ key: RotationStateKey, value: next }]);
}

export function setNextRotation(ctx: LifecycleContext, iso: string): void {
  if (ctx.s) ctx.s.nextRotationAt = iso;
  upsertSearchAttributes([{ key: NextRotationAtKey, value: new Date(iso) }]);
}

/** setNextRotation and setState at once: one search-attribute command instead of two. */
export function setStateAndNextRotation(
  ctx: LifecycleContext,
  next: SecretState,
  iso: string,
): void {
  if (ctx.s) ctx.s.nextRotationAt = iso;
  ctx.state = next;
  upsertSearchAttributes([
    { key: NextRotationAtKey, value: new Date(iso) },
    { key: RotationStateKey, value: next },
  ]);
}

/** Changes state and records it (secret row and audit), once there is a secret to record. */
export function recordState(
  ctx: LifecycleContext,
  next: SecretState,
  action: string,
  actor: string,
  extra: {
    lastErrorType?: string | null;
    policy?: Policy;
    rotationId?: string;
    /** Where the API request behind this change came from, when one did. */
    origin?: RequestOrigin;
  } = {},
): Promise<void> {
  setState(ctx, next);
  const s = ctx.s;
  if (!s) return Promise.resolve();
  return bookkeeping.recordStateChange({
    secretId: s.secretId,
    tenantId: ctx.input.tenantId,
    state: next,
    action,
    actor,
    nextRotationAt: s.nextRotationAt,
    idempotencyKey: uuid4(),
    ...extra,
  });
}

/** How long before the n-th retry of something owed (revoke, repair): doubling, capped. */
export function repairDelayMs(policy: Policy, attempts: number): number {
  return (
    Math.min(
      MAX_REPAIR_INTERVAL_SECONDS,
      (policy.repairEverySeconds ?? DEFAULT_REPAIR_EVERY_SECONDS) * 2 ** Math.min(attempts, 16),
    ) * 1000
  );
}

export function msUntil(iso: string | null): number {
  return Math.max(1, (iso ? Date.parse(iso) : Date.now()) - Date.now());
}
