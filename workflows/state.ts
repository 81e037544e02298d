import type { Policy } from '../domain';
import type { Requester, VaultDeletion } from './messages';

/**
 * Everything the lifecycle carries from one run to the next through continueAsNew, so a secret
 * rotated for years keeps a short history. Ids, versions and times only.
 */
export interface LifecycleState {
  secretId: string;
  policy: Policy;
  currentVersion: number | null;
  previousVersion: number | null;
  /** Newest KV version number written: the check-and-set base for the next stage. */
  latestVersion: number;
  nextRotationAt: string;
  lastRotatedAt: string | null;
  graceEndsAt: string | null;
  lastErrorType: string | null;
  needsAttention: boolean;
  paused: boolean;
  rotationsCompleted: number;
  rotateRequest: Requester | null;
  /** Rotations whose approval window expired (the last 20), to refuse late decisions clearly. */
  expiredApprovals?: string[];
  /** The due time the tenant was last told about (rotation.upcoming), so it is said once. */
  upcomingNoticeFor?: string;
  retireRequest: (Requester & { vaultDeletion?: VaultDeletion }) | null;
  /**
   * Why the secret needs attention, when it does: a rotation failed (resume retries it), a
   * revocation failed (Rotor retries it on its own schedule), or a half-done rotation is being
   * put right (compensate or promote, retried until it works).
   */
  attentionCause?: 'rotation' | 'revoke' | 'repair' | null;
  /** Failed revocations of the previous version so far, and when the next try is. */
  revokeAttempts?: number;
  revokeRetryAt?: string | null;
  /** A rotation that stopped half-way, being put right. */
  repair?: Repair | null;
}

/**
 * The steps still owed by a rotation that stopped between stage and promote. Compensations undo
 * (the target back on the current credential, the pending value discarded); promote rolls
 * forward once the target already accepts the new one.
 */
export interface Repair {
  rotationId: string;
  version: number;
  steps: RepairStep[];
  /** The failure that started it, for the rotation row and alerts. */
  errorType: string;
  attempts: number;
  nextAttemptAt: string;
  requestedBy: string;
  /** A supplied certificate's notAfter, for the next rotation's date once promoted. */
  expiresAt?: string | null;
  /** Whether the rotation staged on the staging path (the consumer-safe layout). */
  stagedAside?: boolean;
}
export type RepairStep = 'compensateTarget' | 'discardPendingVersion' | 'promoteVersion';
