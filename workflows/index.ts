// The worker bundles this file: everything exported here runs in Temporal's deterministic sandbox.
export { secretLifecycle } from './secret-lifecycle';
export { tenantNotifications } from './tenant-notifications';
export { securityReport } from './security-report';
export type { SecurityReportInput } from './security-report';
export { bulkRotation, bulkProgressQuery, bulkReason, bulkSettled } from './bulk-rotation';
export type { BulkProgress, BulkRotationInput } from './bulk-rotation';
export { notifySignal, notifierWorkflowId, outboxHintSignal } from './notifier-messages';
export type { ImportedValue, SecretLifecycleInput } from './secret-lifecycle';
export {
  statusQuery,
  rotateNowSignal,
  requestRotationUpdate,
  pauseSignal,
  resumeSignal,
  updatePolicySignal,
  retireSignal,
  supplyValueUpdate,
} from './messages';
export type {
  SecretStatus,
  Requester,
  RotateAnswer,
  RotateRefusal,
  RotateRequest,
  RotateStart,
  VaultDeletion,
  PendingSupply,
  SupplyRequest,
} from './messages';
export type { LifecycleState } from './state';
export { approveUpdate, rejectUpdate, breakGlassUpdate } from './messages';
export type {
  ApproveRequest,
  RejectRequest,
  BreakGlassRequest,
  DecisionResult,
  PendingApproval,
} from './messages';
export { auditRetention } from './audit-retention';
export { outboxRetention } from './outbox-retention';
export { webhookDeliveries } from './webhook-deliveries';
export type { WebhookDeliveriesInput } from './webhook-deliveries';
