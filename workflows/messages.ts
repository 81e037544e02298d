import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Policy, SecretState, SecretType } from '../domain';

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
}

/** A rotation waiting for its owner to supply the new value (OAuth secrets, certificates). */
export interface PendingSupply {
  rotationId: string;
  requestedAt: string;
  /** After this the secret is OVERDUE; it keeps waiting and reminding. */
  dueAt: string;
  overdue: boolean;
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
}

export interface Requester {
  requestedBy: string;
  reason: string;
  /** Set by break-glass: skips approval, pause and the grace wait. */
  breakGlass?: boolean;
}

/** What happens to the Vault data when a secret is retired. */
export type VaultDeletion = 'destroy-all' | 'keep';

export const statusQuery = defineQuery<SecretStatus>('status');
/** Rotate as soon as possible (after any grace period in progress ends). */
export const rotateNowSignal = defineSignal<[Requester]>('rotateNow');
export const pauseSignal = defineSignal<[Requester]>('pause');
/** Resume a paused secret, or retry one in NEEDS_ATTENTION with a fresh rotation. */
export const resumeSignal = defineSignal<[Requester]>('resume');
export const updatePolicySignal =
  defineSignal<[{ policy: Policy; requestedBy: string }]>('updatePolicy');
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
