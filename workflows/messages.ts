import { defineQuery, defineSignal } from '@temporalio/workflow';
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
  /** Set while a rotation waits for security's decision (issue: approvals). */
  pendingApproval: { rotationId: string; requestedBy: string; reason: string } | null;
  paused: boolean;
}

export interface Requester {
  requestedBy: string;
  reason: string;
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
