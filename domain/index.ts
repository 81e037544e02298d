export { SecretType, SECRET_TYPES, isSecretType } from './secret-types';
export { SecretState, RotationStatus } from './states';
export { ErrorType, NON_RETRYABLE_ERROR_TYPES } from './error-types';
export { SEARCH_ATTRIBUTES } from './search-attributes';
export type { SearchAttributeName } from './search-attributes';
export {
  DEFAULT_APPROVAL,
  DEFAULT_POLICIES,
  DEFAULT_UPCOMING_NOTICE_SECONDS,
  DEFAULT_REPAIR_EVERY_SECONDS,
  DEFAULT_SUPPLY,
  MAX_POLICY_SECONDS,
  MAX_REPAIR_INTERVAL_SECONDS,
  allowsValueRead,
  approvalPolicy,
  policyFor,
  supplyPolicy,
} from './policy';
export type { SupplyPolicy } from './policy';
export type { ApprovalPolicy, MaintenanceWindow, Policy, Schedule } from './policy';
export {
  NAME_PATTERN,
  isValidName,
  secretStagingPath,
  secretWorkflowId,
  secretVaultPath,
} from './naming';
export { Role } from './roles';
export {
  hasControlCharacter,
  hasLoneSurrogate,
  wellFormed,
  wellFormedJson,
  withoutControlCharacters,
} from './text';
export { FAILED_STEPS, NotificationKind } from './notifications';
export type {
  Audience,
  CredentialsAfterFailure,
  FailedStep,
  NotificationEvent,
} from './notifications';
export {
  MAX_CLIENT_IP_LENGTH,
  MAX_USER_AGENT_LENGTH,
  cleanClientIp,
  cleanUserAgent,
} from './origin';
export type { RequestOrigin } from './origin';
export {
  ROLE_NAME_PATTERN,
  TARGET_KINDS,
  TARGET_SECRET_TYPES,
  TENANT_API_KEY_PREFIX,
  TENANT_SETTABLE_TARGETS,
  TargetKind,
  REDIS_USER_PATTERN,
  isManageableRedisUser,
  isManageableRoleName,
  MARIADB_DEFAULT_HOST,
  MARIADB_HOST_PATTERN,
  MARIADB_USER_PATTERN,
  isManageableMariaDbHost,
  isManageableMariaDbUser,
  mariaDbTargetUsers,
  targetConnectionOf,
  targetRedisUsers,
  targetRoles,
  IAM_USER_NAME_PATTERN,
  isIamUserName,
} from './targets';
export type {
  AwsIamAccessKeyTarget,
  MariaDbUserTarget,
  PostgresRoleTarget,
  RedisAclTarget,
  TargetSpec,
  TenantApiKeyTarget,
} from './targets';
export {
  CONNECTION_KINDS,
  ConnectionKind,
  DEFAULT_CONNECTION,
  AWS_ACCESS_KEY_ID_PATTERN,
  AWS_REGION_PATTERN,
  HOST_PATTERN,
  TlsMode,
  connectionCredentialPath,
} from './connections';
export type {
  AwsConnectionSettings,
  ConnectionCredential,
  ConnectionSpec,
  ConnectionTls,
} from './connections';
export {
  MAX_WEBHOOK_ENDPOINTS_PER_TENANT,
  MAX_WEBHOOK_URL_LENGTH,
  WEBHOOK_EVENTS,
  WEBHOOK_SECRET_PREFIX,
  WEBHOOK_TEST_EVENT,
  isWebhookEvent,
  webhookSecretPath,
  webhookUrlProblem,
} from './webhooks';
export type { WebhookEvent } from './webhooks';
