import { createHash } from 'node:crypto';

/** prev_hash of a chain's first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** The chain a tenant's events form; events without a tenant form the chain ''. */
export const chainKey = (tenantId: string | null): string => tenantId ?? '';
export const chainTenant = (key: string): string | null => (key === '' ? null : key);

/** The fields a row's hash covers: everything but its id, which only orders rows. */
export interface ChainedFields {
  tenantId: string | null;
  secretId: string | null;
  rotationId: string | null;
  actor: string;
  action: string;
  outcome: string;
  details: unknown;
  idempotencyKey: string | null;
  occurredAt: Date;
  seq: number;
  prevHash: string;
}

/** JSON with object keys sorted at every level, so jsonb's own key order cannot change a hash. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      const obj = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(obj)
          .sort()
          .map((k) => [k, sort(obj[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

/**
 * SHA-256 (hex) of encoding "rotor-audit-v1": a JSON array of the fields in a fixed order. The
 * migration 0003 carries a frozen copy; change neither, add a v2 beside them instead.
 */
export function auditHash(f: ChainedFields): string {
  const encoded = JSON.stringify([
    'rotor-audit-v1',
    f.tenantId,
    String(f.seq),
    f.prevHash,
    f.secretId,
    f.rotationId,
    f.actor,
    f.action,
    f.outcome,
    canonicalJson(f.details),
    f.idempotencyKey,
    f.occurredAt.toISOString(),
  ]);
  return createHash('sha256').update(encoded).digest('hex');
}

/** A stored row (live or archived), as PostgreSQL returns it. */
export interface StoredAuditRow {
  id: string;
  tenant_id: string | null;
  secret_id: string | null;
  rotation_id: string | null;
  actor: string;
  action: string;
  outcome: string;
  details: unknown;
  idempotency_key: string | null;
  occurred_at: Date;
  chain_seq: string;
  prev_hash: string;
  hash: string;
}

export function storedRowHash(r: StoredAuditRow): string {
  return auditHash({
    tenantId: r.tenant_id,
    secretId: r.secret_id,
    rotationId: r.rotation_id,
    actor: r.actor,
    action: r.action,
    outcome: r.outcome,
    details: r.details,
    idempotencyKey: r.idempotency_key,
    occurredAt: r.occurred_at,
    seq: Number(r.chain_seq),
    prevHash: r.prev_hash,
  });
}
