/** What Rotor tells people about. Each kind has a template; none carries a secret value. */
export const NotificationKind = {
  RotationUpcoming: 'rotation.upcoming',
  RotationCompleted: 'rotation.completed',
  CredentialRevoked: 'credential.revoked',
  RotationFailed: 'rotation.failed',
  ApprovalRequested: 'approval.requested',
  ApprovalReminded: 'approval.reminded',
  ApprovalEscalated: 'approval.escalated',
  ApprovalExpired: 'approval.expired',
  BreakGlass: 'rotation.break_glass',
  ValueNeeded: 'value.needed',
  ValueReminder: 'value.reminder',
  ValueOverdue: 'value.overdue',
  /** A failed rotation or revocation that Rotor kept retrying has been put right. */
  RotationRepaired: 'rotation.repaired',
} as const;
export type NotificationKind = (typeof NotificationKind)[keyof typeof NotificationKind];

/** Who hears about it: the tenant's own people, security (approvers), or ops (alerts). */
export type Audience = 'tenant' | 'security' | 'ops';

/** One thing that happened to one secret, as ids, versions and times: never a value. */
export interface NotificationEvent {
  kind: NotificationKind;
  audience: Audience;
  tenantId: string;
  secretName: string;
  secretType: string;
  workflowId: string;
  /** When it happened (ISO). */
  at: string;
  rotationId?: string;
  version?: number | null;
  previousVersion?: number | null;
  graceEndsAt?: string | null;
  nextRotationAt?: string | null;
  expiresAt?: string | null;
  errorType?: string | null;
  requestedBy?: string;
  reason?: string;
  /**
   * What is true of the credentials after a failure, so the message never claims more than Rotor
   * checked: the old credential still works; Vault and the target are not yet known to agree (Rotor
   * keeps reconciling); or the previous credential is still live because revoking it failed.
   */
  credentials?: CredentialsAfterFailure;
  /** The step of the rotation that failed, so an alert says where (absent: not known). */
  step?: FailedStep | null;
  /** The privilege the target refused the rotator for, as the server grants it (e.g. CREATE USER). */
  missingPrivilege?: string | null;
}

export type CredentialsAfterFailure = 'old-works' | 'reconciling' | 'previous-live';

/** The steps of a rotation a failure is reported at (see the rotation protocol). */
export const FAILED_STEPS = ['stage', 'apply', 'verify', 'promote', 'revoke'] as const;
export type FailedStep = (typeof FAILED_STEPS)[number];
