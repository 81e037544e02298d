import type { Migration } from 'kysely';
import * as m0001 from './0001_initial';
import * as m0002 from './0002_notification_deliveries';
import * as m0003 from './0003_audit_chain';
import * as m0004 from './0004_idempotency_keys';
import * as m0005 from './0005_tenant_api_keys';
import * as m0006 from './0006_token_subjects';
import * as m0007 from './0007_rotation_bulk_id';
import * as m0008 from './0008_notification_outbox';
import * as m0009 from './0009_audit_chain_head_lock';
import * as m0010 from './0010_token_expiry';
import * as m0011 from './0011_connections';
import * as m0012 from './0012_mariadb_connections';
import * as m0013 from './0013_audit_origin';
import * as m0014 from './0014_webhook_endpoints';
import * as m0015 from './0015_aws_connections';
import * as m0017 from './0017_promoted_at_outbox_retention';
import * as m0018 from './0018_secret_target_connection';
import * as m0019 from './0019_credential_notifications';
import * as m0020 from './0020_bulk_batches';

/**
 * Migrations in the order they apply. A static list (not a folder scan) so the runner works the
 * same under tsx, vitest and a bundled build. Never edit an entry once released: add a new one.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_notification_deliveries': m0002,
  '0003_audit_chain': m0003,
  '0004_idempotency_keys': m0004,
  '0005_tenant_api_keys': m0005,
  '0006_token_subjects': m0006,
  '0007_rotation_bulk_id': m0007,
  '0008_notification_outbox': m0008,
  '0009_audit_chain_head_lock': m0009,
  '0010_token_expiry': m0010,
  '0011_connections': m0011,
  '0012_mariadb_connections': m0012,
  '0013_audit_origin': m0013,
  '0014_webhook_endpoints': m0014,
  '0015_aws_connections': m0015,
  '0017_promoted_at_outbox_retention': m0017,
  '0018_secret_target_connection': m0018,
  '0019_credential_notifications': m0019,
  '0020_bulk_batches': m0020,
};
