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
  /** Which encoding: 1 (rotor-audit-v1, no origin) when absent, or 2 (rotor-audit-v2). */
  format?: number;
  /** Format 2 only: where the API request behind the row came from (null: not from a request). */
  clientIp?: string | null;
  userAgent?: string | null;
}

/** The encoding new rows are hashed with (migration 0013 added it; older rows stay format 1). */
export const CURRENT_CHAIN_FORMAT = 2;

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
 * SHA-256 (hex) of the row's encoding, by format:
 * - "rotor-audit-v1": a JSON array of the fields in a fixed order. The migration 0003 carries a
 *   frozen copy; never change it. It covers no origin, so a v1 row has none (see storedRowHash).
 * - "rotor-audit-v2": the v1 array with the client IP and user agent appended (migration 0013).
 * A format Rotor does not know throws: nothing is written or accepted under it.
 */
export function auditHash(f: ChainedFields): string {
  const format = f.format ?? 1;
  if (format !== 1 && format !== 2) throw new Error(`unknown audit chain format ${format}`);
  const fields = [
    format === 1 ? 'rotor-audit-v1' : 'rotor-audit-v2',
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
  ];
  if (format === 2) fields.push(f.clientIp ?? null, f.userAgent ?? null);
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
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
  client_ip: string | null;
  user_agent: string | null;
  chain_format: number;
}

/**
 * The hash a stored row should carry, or null when no hash can vouch for it: an unknown format,
 * or a format-1 row holding an origin (v1 covers none, so one there was added afterwards). A
 * null never equals a stored hash, so verification names the row as altered.
 */
export function storedRowHash(r: StoredAuditRow): string | null {
  const format = Number(r.chain_format);
  if (format !== 1 && format !== 2) return null;
  if (format === 1 && (r.client_ip !== null || r.user_agent !== null)) return null;
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
    format,
    clientIp: r.client_ip,
    userAgent: r.user_agent,
  });
}
