import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T> = ColumnType<T, string, string>;
/** A jsonb column with a database default: optional on insert. */
type JsonWithDefault<T> = ColumnType<T, string | undefined, string>;

export interface TenantsTable {
  id: string;
  name: string;
  notification_settings: JsonWithDefault<Record<string, unknown>>;
  created_at: CreatedAt;
}

export interface SecretsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  type: string;
  policy: Json<Record<string, unknown>>;
  state: string;
  workflow_id: string;
  vault_path: string;
  current_version: number | null;
  previous_version: number | null;
  pending_version: number | null;
  next_rotation_at: Timestamp | null;
  last_rotated_at: Timestamp | null;
  last_error_type: string | null;
  /** The connection the secret's target names (null: none, or registered before 0018). */
  target_connection: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface RotationsTable {
  id: string;
  secret_id: string;
  status: string;
  reason: string;
  requested_by: string;
  approved_by: string | null;
  /** The bulk batch that asked for this rotation, if any. */
  bulk_id: ColumnType<string | null, string | null | undefined, string | null>;
  from_version: number | null;
  to_version: number | null;
  error_type: string | null;
  requested_at: CreatedAt;
  started_at: Timestamp | null;
  /** When the new value became current (the promote step); null until then. */
  promoted_at: Timestamp | null;
  completed_at: Timestamp | null;
}

/** A bulk rotation batch (0020); its rotations carry its id in `rotations.bulk_id`. */
export interface BulkBatchesTable {
  id: string;
  /** The tenant the batch was limited to (null: every tenant). */
  tenant_id: string | null;
  total: number;
  /** Null until the batch workflow has asked every secret; then how many it reached. */
  requested: number | null;
  unreachable: number | null;
  requested_by: string;
  created_at: CreatedAt;
}

export interface ApprovalsTable {
  id: Generated<string>;
  rotation_id: string;
  approver: string;
  decision: 'approved' | 'rejected';
  reason: string | null;
  update_id: string;
  decided_at: CreatedAt;
}

export interface AuditEventsTable {
  id: Generated<string>;
  tenant_id: string | null;
  secret_id: string | null;
  rotation_id: string | null;
  actor: string;
  action: string;
  outcome: string;
  details: JsonWithDefault<Record<string, unknown>>;
  idempotency_key: string | null;
  /** Set by appendAudit, which hashes it: a JS Date, so millisecond precision. */
  occurred_at: ColumnType<Date, Date, never>;
  /** Position in the tenant's chain (1, 2, …); bigint, so it reads as a string. */
  chain_seq: ColumnType<string, number, never>;
  /** The hash of the chain's previous row (or the last archived one, or 64 zeros). */
  prev_hash: ColumnType<string, string, never>;
  /** SHA-256 of this row's canonical encoding, prev_hash included. */
  hash: ColumnType<string, string, never>;
  /** The API caller's address (trusted proxies honoured), or null: not written by an API request. */
  client_ip: ColumnType<string | null, string | null | undefined, never>;
  /** The API caller's user agent, length-capped and without control characters, or null. */
  user_agent: ColumnType<string | null, string | null | undefined, never>;
  /** Which encoding `hash` uses: 1 (before migration 0013, no origin) or 2 (origin covered). */
  chain_format: ColumnType<number, number | undefined, never>;
}

/** The newest row of each chain: where the next append links, and what verify ends at. */
export interface AuditChainHeadsTable {
  /** The tenant id, or '' for events without a tenant. */
  chain_key: string;
  last_seq: ColumnType<string, number, number>;
  last_hash: string;
  updated_at: Timestamp;
}

/** audit_events rows moved out by the archiver, unchanged. */
export interface AuditEventsArchiveTable {
  id: ColumnType<string, string, never>;
  tenant_id: string | null;
  secret_id: string | null;
  rotation_id: string | null;
  actor: string;
  action: string;
  outcome: string;
  details: Json<Record<string, unknown>>;
  idempotency_key: string | null;
  occurred_at: ColumnType<Date, Date, never>;
  chain_seq: ColumnType<string, string | number, never>;
  prev_hash: string;
  hash: string;
  client_ip: string | null;
  user_agent: string | null;
  chain_format: number;
  archived_at: CreatedAt;
}

/** One per archived segment of a chain: the live chain continues from through_hash. */
export interface AuditCheckpointsTable {
  id: Generated<string>;
  chain_key: string;
  through_seq: ColumnType<string, number, never>;
  through_hash: string;
  through_id: ColumnType<string, string, never>;
  row_count: number;
  cutoff: ColumnType<Date, Date, never>;
  created_by: string;
  created_at: CreatedAt;
}

export interface ApiTokensTable {
  id: Generated<string>;
  /** A display label; names may repeat. */
  name: string;
  /** Unique: who holds the token (`<name>#<8 hex>`), recorded as requester, approver, actor. */
  subject: string;
  prefix: string;
  token_hash: string;
  role: 'admin' | 'security' | 'operator' | 'tenant';
  tenant_id: string | null;
  created_at: CreatedAt;
  /** When the token stops working (null: never). Checked on every request, no cache. */
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
  /** The subject that revoked it, and why (a label, never a value). */
  revoked_by: string | null;
  revoked_reason: string | null;
}

export interface NotificationDeliveriesTable {
  id: Generated<string>;
  tenant_id: string;
  audience: 'tenant' | 'security' | 'ops';
  channel: 'email' | 'slack' | 'webhook';
  /** 'retrying': a webhook attempt that failed with more attempts to come (migration 0014). */
  status: 'sent' | 'failed' | 'retrying';
  event_count: number;
  events: Json<unknown[]>;
  error: string | null;
  idempotency_key: string;
  created_at: CreatedAt;
  /** Webhooks only: which endpoint, which attempt, and what the receiver answered. */
  endpoint_id: string | null;
  attempt: number | null;
  http_status: number | null;
}

/** A notification event waiting for (or taken by) its tenant's notifier; see migration 0008. */
export interface NotificationOutboxTable {
  id: Generated<string>;
  /**
   * One row per event: the workflow id, run id and activity id of the step that raised it, or
   * `rotation/<id>/completed` for the event promote hands over (promote-announces-v1).
   */
  event_id: string;
  tenant_id: string;
  audience: 'tenant' | 'security' | 'ops';
  event: Json<Record<string, unknown>>;
  /** The digest that took it; null while it waits. */
  digest_id: string | null;
  created_at: CreatedAt;
  delivered_at: Timestamp | null;
}

export interface IdempotencyKeysTable {
  /** 'tenant:<id>' for tenant tokens, 'token:<id>' for the others. */
  scope: string;
  key: string;
  request_salt: string;
  /** Salted SHA-256 of the request: never the request itself, which may carry a value. */
  request_hash: string;
  /** Null while the first request with this key is still running. */
  status_code: number | null;
  response: Json<unknown> | null;
  created_at: CreatedAt;
  expires_at: Timestamp;
}

/** The engine database, as kysely sees it. Matches migrations/ (a test checks they agree). */
/** One issued tenant API key: only its keyed hash, one row per Vault version of the secret. */
export interface ApiKeysTable {
  id: Generated<string>;
  tenant_id: string;
  secret_id: string;
  vault_version: number;
  key_hash: string;
  status: 'active' | 'revoked';
  created_at: CreatedAt;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
  /** bigint: pg returns it as a string. */
  use_count: ColumnType<string, never, string>;
}

/** A target server Rotor reaches; its credential is in Vault, never here. */
export interface ConnectionsTable {
  name: string;
  kind: string;
  host: string;
  port: number;
  database: string | null;
  tls: JsonWithDefault<Record<string, unknown>>;
  /** An aws connection's region and endpoint (migration 0015); null for other kinds. */
  region: ColumnType<string | null, string | null | undefined, string | null>;
  endpoint: ColumnType<string | null, string | null | undefined, string | null>;
  created_by: string;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** A tenant's webhook endpoint; its signing secret is in Vault only (migration 0014). */
export interface WebhookEndpointsTable {
  id: string;
  tenant_id: string;
  url: string;
  /** The event kinds it receives. */
  events: Json<string[]>;
  enabled: Generated<boolean>;
  created_by: string;
  created_at: CreatedAt;
  secret_rotated_at: Timestamp | null;
}

export interface Database {
  tenants: TenantsTable;
  secrets: SecretsTable;
  rotations: RotationsTable;
  bulk_batches: BulkBatchesTable;
  approvals: ApprovalsTable;
  audit_events: AuditEventsTable;
  audit_chain_heads: AuditChainHeadsTable;
  audit_events_archive: AuditEventsArchiveTable;
  audit_checkpoints: AuditCheckpointsTable;
  api_tokens: ApiTokensTable;
  notification_deliveries: NotificationDeliveriesTable;
  notification_outbox: NotificationOutboxTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  connections: ConnectionsTable;
  webhook_endpoints: WebhookEndpointsTable;
}

export type Tenant = Selectable<TenantsTable>;
export type Secret = Selectable<SecretsTable>;
export type NewSecret = Insertable<SecretsTable>;
export type SecretUpdate = Updateable<SecretsTable>;
export type Rotation = Selectable<RotationsTable>;
export type AuditEvent = Selectable<AuditEventsTable>;
export type NewAuditEvent = Insertable<AuditEventsTable>;
