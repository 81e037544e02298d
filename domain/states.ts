/** Lifecycle states of a managed secret, as shown in the RotationState search attribute. */
export const SecretState = {
  Active: 'ACTIVE',
  AwaitingApproval: 'AWAITING_APPROVAL',
  /** A supplied type's rotation waits for its owner to send the new value. */
  AwaitingValue: 'AWAITING_VALUE',
  /** A rotation is requested (approved, if asked) and waits for the maintenance window to open. */
  AwaitingWindow: 'AWAITING_WINDOW',
  Rotating: 'ROTATING',
  InGrace: 'IN_GRACE',
  NeedsAttention: 'NEEDS_ATTENTION',
  Overdue: 'OVERDUE',
  Paused: 'PAUSED',
  Retired: 'RETIRED',
} as const;
export type SecretState = (typeof SecretState)[keyof typeof SecretState];

/** Status of one rotation attempt. */
export const RotationStatus = {
  Requested: 'REQUESTED',
  AwaitingApproval: 'AWAITING_APPROVAL',
  Staged: 'STAGED',
  Applied: 'APPLIED',
  Verified: 'VERIFIED',
  /**
   * Promoted, not yet finished. Rotations on the current path (patch fewer-round-trips-v1) are
   * promoted and finished in one transaction and go straight to COMPLETED (`promoted_at` keeps
   * the time); only older lifecycles and a promote from a worker without `finish` show it.
   */
  Promoted: 'PROMOTED',
  Completed: 'COMPLETED',
  Failed: 'FAILED',
  Compensated: 'COMPENSATED',
  Rejected: 'REJECTED',
  ApprovalExpired: 'APPROVAL_EXPIRED',
} as const;
export type RotationStatus = (typeof RotationStatus)[keyof typeof RotationStatus];
