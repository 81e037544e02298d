/**
 * The `type` of every ApplicationFailure Rotor raises, in one place so retry policies can list
 * the non-retryable ones and alerts can tell failures apart. Messages never carry secret values.
 */
export const ErrorType = {
  ValidationFailed: 'ValidationFailed',
  VaultPermissionDenied: 'VaultPermissionDenied',
  VaultVersionConflict: 'VaultVersionConflict',
  VaultUnavailable: 'VaultUnavailable',
  TargetNotFound: 'TargetNotFound',
  TargetRejected: 'TargetRejected',
  VerificationFailed: 'VerificationFailed',
  DatabaseUnavailable: 'DatabaseUnavailable',
  SecretNotFound: 'SecretNotFound',
  /** An approval, rejection or break-glass request the workflow's validator refused. */
  ApprovalRefused: 'ApprovalRefused',
  /** A supplied value the workflow's validator refused (no request pending, stale version). */
  SupplyRefused: 'SupplyRefused',
  /** The audit chain does not verify; retention refuses to archive (and hide) it. */
  AuditChainBroken: 'AuditChainBroken',
  NotificationDeliveryFailed: 'NotificationDeliveryFailed',
  /** A rotate-now request the workflow refused (needs attention, paused, retiring): a 409. */
  RotateRefused: 'RotateRefused',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Failures that retrying cannot fix: a retry policy must stop at once on these. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorType[] = [
  ErrorType.ValidationFailed,
  ErrorType.VaultPermissionDenied,
  ErrorType.TargetNotFound,
  ErrorType.SecretNotFound,
  ErrorType.AuditChainBroken,
];
