import { SecretType } from './secret-types';

/**
 * Where a rotated value must also be accepted besides Vault. Secrets without a target (jwt,
 * webhook, encryption keys, service tokens) live in Vault alone and consumers re-read them.
 */
export const TargetKind = {
  /** A PostgreSQL role whose password Rotor sets (one role, or an alternating pair). */
  PostgresRole: 'postgres_role',
  /** A tenant's API key: Rotor keeps only its keyed hash and verifies presented keys. */
  TenantApiKey: 'tenant_api_key',
} as const;
export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];
export const TARGET_KINDS: readonly TargetKind[] = Object.values(TargetKind);

/**
 * single: ALTER ROLE on one role; consumers holding the old password fail from that moment.
 * alternating: two roles take turns; the one not in use gets the new password, then Vault's
 * current credential points at it, so the old one keeps working through the grace period.
 */
export type PostgresRoleTarget =
  | { kind: typeof TargetKind.PostgresRole; strategy: 'single'; role: string }
  | { kind: typeof TargetKind.PostgresRole; strategy: 'alternating'; roles: [string, string] };

export type TenantApiKeyTarget = { kind: typeof TargetKind.TenantApiKey };

export type TargetSpec = PostgresRoleTarget | TenantApiKeyTarget;

/** Which secret types each target can rotate: a role takes a password, a key registry a key. */
export const TARGET_SECRET_TYPES: Record<TargetKind, readonly SecretType[]> = {
  [TargetKind.PostgresRole]: [SecretType.DatabasePassword],
  [TargetKind.TenantApiKey]: [SecretType.ApiKey],
};

/**
 * PostgreSQL role names Rotor will manage: an unquoted-identifier shape, at most 63 bytes, and no
 * reserved pg_ prefix. Stricter than PostgreSQL itself on purpose; the SQL is quoted regardless.
 */
export const ROLE_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export function isManageableRoleName(role: string): boolean {
  return ROLE_NAME_PATTERN.test(role) && !role.startsWith('pg_');
}

/** The roles a target touches, for validation and for locking them all on retire. */
export function targetRoles(target: PostgresRoleTarget): string[] {
  return target.strategy === 'single' ? [target.role] : [...target.roles];
}

/** Prefix of every tenant API key Rotor issues, so a leaked key is recognisable in scans. */
export const TENANT_API_KEY_PREFIX = 'rk_';
