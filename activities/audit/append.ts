import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';

export interface AuditEntry {
  tenantId: string | null;
  secretId?: string | null;
  rotationId?: string | null;
  actor: string;
  action: string;
  outcome: 'success' | 'failure' | 'refused' | 'info';
  /** Ids, versions and error types only: never a value. */
  details?: Record<string, string | number | boolean | null>;
  /** Same key, same row: a retried activity does not audit twice. */
  idempotencyKey: string;
}

export async function appendAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      tenant_id: entry.tenantId,
      secret_id: entry.secretId ?? null,
      rotation_id: entry.rotationId ?? null,
      actor: entry.actor,
      action: entry.action,
      outcome: entry.outcome,
      details: JSON.stringify(entry.details ?? {}),
      idempotency_key: entry.idempotencyKey,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .execute();
}
