import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Policy, RequestOrigin, SecretState, SecretType } from '../domain';

/** What the status query returns: ids, versions and states, never a value. */
export interface SecretStatus {
  tenantId: string;
  name: string;
  type: SecretType;
  state: SecretState;
  secretId: string | null;
  currentVersion: number | null;
  previousVersion: number | null;
  nextRotationAt: string | null;
  graceEndsAt: string | null;
  lastErrorType: string | null;
  rotationsCompleted: number;
  /** Set while a rotation waits for security's decision. */
  pendingApproval: PendingApproval | null;
  /** Set while a supplied type's rotation waits for its owner's value. */
  pendingSupply?: PendingSupply | null;
  paused: boolean;
  /** The rotation running now, if any (approval and value waits included). */
  rotationId?: string | null;
  /** The rotation waiting for the maintenance window to open, and when it opens. */
  waitingForWindow?: { rotationId: string; opensAt: string } | null;
  /** A rotate-now request waiting for the grace period to end, if any. */
  queuedRotation?: { rotationId: string; startsAfter: string | null } | null;
  /**
   * The previous credential still works at the target: in grace, or past grace because revoking it
   * failed (then `revokeRetryAt` says when Rotor tries again).
   */
  previousCredentialLive?: boolean;
  revokeRetryAt?: string | null;
  /** Something Rotor keeps retrying after a failure (compensate, promote), until it works. */
  repair?: { rotationId: string; steps: string[]; attempts: number; nextAttemptAt: string } | null;
}

/** A rotation waiting for its owner to supply the new value (OAuth secrets, certificates). */
export interface PendingSupply {
  rotationId: string;
  requestedAt: string;
  /** After this the secret is OVERDUE; it keeps waiting and reminding. */
  dueAt: string;
  overdue: boolean;
  /** Where the supplied value must be staged (consumer-safe layout); absent: the consumer path. */
  stagingPath?: string;
}

/**
 * The owner's value was written to Vault (by the API, never through the workflow) as `version`,
 * labelled pending for `rotationId`. `expiresAt` is a certificate's notAfter, if any.
 */
export interface SupplyRequest {
  rotationId: string;
  version: number;
  suppliedBy: string;
  expiresAt?: string | null;
  /** Where the owner's API request came from, for the value.supplied audit row. */
  origin?: RequestOrigin;
}

export interface Requester {
  requestedBy: string;
  reason: string;
  /** Set by break-glass: skips approval, pause, the grace wait and the maintenance window. */
  breakGlass?: boolean;
  /**
   * Wait for the policy's maintenance window before touching anything (schedule, resume, retry,
   * and rotate-now asked to run in the window). Absent: the rotation runs as soon as it can.
   */
  inWindow?: boolean;
  /** The id the rotation will run under, given when the request was accepted. */
  rotationId?: string;
  /** The bulk batch asking, recorded on the rotation row so progress is counted by key. */
  bulkId?: string;
  /** Where the API request came from, for the audit rows it causes (absent from raw signals). */
  origin?: RequestOrigin;
}

/** A rotate-now request through the update: who, why, from where, and whether to wait for the window. */
export interface RotateRequest {
  requestedBy: string;
  reason: string;
  /** 'now' (the default): run as soon as it can; 'window': in the policy's next maintenance window. */
  start?: RotateStart;
  origin?: RequestOrigin;
}

/** When a rotate-now request runs: at once, or in the maintenance window. */
export type RotateStart = 'now' | 'window';

/**
 * What happens to a rotate-now request: it starts now; it joins the rotation already running
 * (a burst of requests makes one rotation); or it is queued until the grace period in progress
 * ends (a second request while one is queued gets the same id).
 */
export interface RotateAnswer {
  status: 'started' | 'in_progress' | 'queued';
  rotationId: string;
  /** For a queued request: when the grace period ends and the rotation can start. */
  startsAfter: string | null;
  /** What was asked: at once, or in the maintenance window (the same when there is no window). */
  start?: RotateStart;
  /**
   * When the rotation will start doing its work, as far as known now: the later of the grace end
   * and, for 'window', the window's opening; null when it starts at once (or is already running).
   */
  startsAt?: string | null;
}

/** Why a rotate-now request is refused: each is a 409 with its own code in the API. */
export type RotateRefusal = 'NEEDS_ATTENTION' | 'PAUSED' | 'RETIRING' | 'INVALID_REQUEST';

/** What happens to the Vault data when a secret is retired. */
export type VaultDeletion = 'destroy-all' | 'keep';

export const statusQuery = defineQuery<SecretStatus>('status');
/** Rotate as soon as possible (after any grace period in progress ends). */
export const rotateNowSignal = defineSignal<[Requester]>('rotateNow');
/** Rotate now, answered with what happens (a rotation id), or refused with a reason. */
export const requestRotationUpdate = defineUpdate<RotateAnswer, [RotateRequest]>('requestRotation');
export const pauseSignal = defineSignal<[Requester]>('pause');
/** Resume a paused secret, or retry one in NEEDS_ATTENTION with a fresh rotation. */
export const resumeSignal = defineSignal<[Requester]>('resume');
export const updatePolicySignal =
  defineSignal<[{ policy: Policy; requestedBy: string; origin?: RequestOrigin }]>('updatePolicy');
export const retireSignal = defineSignal<[Requester & { vaultDeletion?: VaultDeletion }]>('retire');

/** A rotation waiting for security, with the context an approver needs. */
export interface PendingApproval {
  rotationId: string;
  requestedBy: string;
  reason: string;
  requestedAt: string;
  escalatesAt: string;
  expiresAt: string;
  quorum: number;
  /** Distinct approvers so far. */
  approvals: string[];
  escalated: boolean;
}

/**
 * Who decides. The API fills roles from the caller's token; from the Temporal UI, the operator
 * states them, and Temporal's own authorization decides who may send updates at all.
 */
export interface Decider {
  approver: string;
  roles: string[];
  /** Where the API request came from, for the audit row of the decision. */
  origin?: RequestOrigin;
}
export interface ApproveRequest extends Decider {
  /** The rotation this decision is for: a decision for any other (stale) rotation is refused. */
  rotationId: string;
  comment?: string;
}
export interface RejectRequest extends Decider {
  rotationId: string;
  reason: string;
}
export interface DecisionResult {
  rotationId: string;
  outcome: 'approved' | 'rejected' | 'awaiting_more_approvals';
  approvals: string[];
  quorum: number;
}
export interface BreakGlassRequest {
  requestedBy: string;
  roles: string[];
  reason: string;
  origin?: RequestOrigin;
}

/** Approve a pending rotation; the validator refuses bad decisions before anything is recorded. */
export const approveUpdate = defineUpdate<DecisionResult, [ApproveRequest]>('approveRotation');
export const rejectUpdate = defineUpdate<DecisionResult, [RejectRequest]>('rejectRotation');
/** Emergency rotation by an admin: no approval wait, no grace wait; always audited. */
export const breakGlassUpdate = defineUpdate<{ accepted: true }, [BreakGlassRequest]>(
  'breakGlassRotate',
);

/** Hand the workflow a supplied value's Vault version; refused unless that rotation waits. */
export const supplyValueUpdate = defineUpdate<{ accepted: true }, [SupplyRequest]>('supplyValue');
