export { createSecret } from './create-secret';
export { checkTargetConnection } from './target-connection';
export type { ConnectionLookup } from './target-connection';
export { startSecretLifecycle } from './start-secret';
export type { StartSecretRequest } from './start-secret';
export { policySchema, requestSchema, validateCreateSecret } from './validate-secret';
export type { CreateSecretLimits, CreateSecretRequest } from './validate-secret';
export {
  LifecycleNotRunningError,
  SecretNotFoundError,
  SecretRetiredError,
  UnsupportedError,
  ValidationError,
} from './errors';
export type { ValidationIssue } from './errors';
export {
  ApprovalRefusedError,
  approveRotation,
  rejectRotation,
  breakGlassRotate,
  listPendingApprovals,
  findPendingApprovals,
} from './approvals';
export type { ApprovalDeps, PendingApprovals, PendingApprovalView } from './approvals';
export { SupplyRefusedError, supplyValue } from './supply-value';
export { AlreadyManagedError, checkInitialValue } from './import-value';
export { LifecycleUnavailableError, RotateRefusedError, requestRotation } from './rotate-now';
export type { SuppliedSecret, SupplyDeps } from './supply-value';
export { checkSuppliedValue } from './validate-supplied';
export type { SuppliedValue } from './validate-supplied';
export {
  ensureSecurityReportSchedule,
  SECURITY_REPORT_SCHEDULE_ID,
} from './security-report-schedule';
export type { SecurityReportScheduleOptions } from './security-report-schedule';
export {
  AUDIT_RETENTION_SCHEDULE_ID,
  ensureAuditRetentionSchedule,
} from './audit-retention-schedule';
export type { AuditRetentionScheduleOptions } from './audit-retention-schedule';
export {
  OUTBOX_RETENTION_SCHEDULE_ID,
  ensureOutboxRetentionSchedule,
} from './outbox-retention-schedule';
export type { OutboxRetentionScheduleOptions } from './outbox-retention-schedule';
export { readLiveStatus, toLifecycle } from './lifecycle';
export { retireSecret } from './retire-secret';
export { setPolicy } from './set-policy';
export type { PolicySecret, SetPolicyDeps } from './set-policy';
export {
  MAX_CONTROL_REASON,
  SecretAction,
  SecretControlRefusedError,
  controlSecret,
} from './secret-control';
export type { ControlRequest, ControlledSecret, SecretControlDeps } from './secret-control';
export { BatchNotFoundError, readBulkProgress, startBulkRotation } from './bulk-rotate';
export type { BulkRotateDeps, BulkRotateRequest } from './bulk-rotate';
export {
  KvImportError,
  KvImportOutcome,
  MAX_KV_IMPORT_KEYS,
  importFromKv,
  kvPathAllowed,
  kvSecretName,
} from './import-kv';
export type { KvImportDeps, KvImportRequest, KvImportResult } from './import-kv';
export { temporalOutage } from './temporal-unavailable';
