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
  /** A Redis (6+) or Valkey ACL user whose password Rotor sets (one user, or an alternating pair). */
  RedisAcl: 'redis_acl',
  /** A MariaDB / MySQL account whose password Rotor sets (one user, or an alternating pair). */
  MariaDbUser: 'mariadb_user',
  /** An AWS IAM user's access keys, rotated two-key style; AWS issues each secret access key. */
  AwsIamAccessKey: 'aws_iam_access_key',
} as const;
export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];
export const TARGET_KINDS: readonly TargetKind[] = Object.values(TargetKind);

/**
 * The targets a tenant token may name. Every other kind sets the password or keys of an account
 * on a shared server, chosen by name: a tenant naming one it does not own (another tenant's role,
 * an administrator's account, Rotor's own login) would take it over. Which accounts a secret may
 * manage is deployment configuration, like the connections themselves, so admins and operators
 * set those targets; the owning tenant still reads, rotates, pauses and retires the secret.
 */
export const TENANT_SETTABLE_TARGETS: readonly TargetKind[] = [TargetKind.TenantApiKey];

/**
 * single: ALTER ROLE on one role; consumers holding the old password fail from that moment.
 * alternating: two roles take turns; the one not in use gets the new password, then Vault's
 * current credential points at it, so the old one keeps working through the grace period.
 */
export type PostgresRoleTarget = (
  | { kind: typeof TargetKind.PostgresRole; strategy: 'single'; role: string }
  | { kind: typeof TargetKind.PostgresRole; strategy: 'alternating'; roles: [string, string] }
) & {
  /**
   * The PostgreSQL connection the role lives on. Absent: the default connection
   * (ROTOR_TARGET_DATABASE_URL), as for every secret created before connections existed.
   */
  connection?: string;
};

export type TenantApiKeyTarget = { kind: typeof TargetKind.TenantApiKey };

/**
 * single: one ACL user; the new password is added beside the old one, so consumers holding the
 * old one keep working through grace, and revoke leaves the user with only the current one.
 * alternating: two users take turns, as for PostgreSQL roles; revoke switches the previous off.
 */
export type RedisAclTarget = (
  | { kind: typeof TargetKind.RedisAcl; strategy: 'single'; user: string }
  | { kind: typeof TargetKind.RedisAcl; strategy: 'alternating'; users: [string, string] }
) & {
  /** The Redis connection (required: there is no default Redis server). */
  connection: string;
};

/**
 * single: the user's password changes at apply; consumers holding the old one fail from then on.
 * alternating: the user not in use takes the new password and is unlocked; the other keeps working
 * through grace and is locked (ACCOUNT LOCK) at revoke.
 */
export type MariaDbUserTarget = (
  | { kind: typeof TargetKind.MariaDbUser; strategy: 'single'; user: string }
  | { kind: typeof TargetKind.MariaDbUser; strategy: 'alternating'; users: [string, string] }
) & {
  /** The MariaDB connection (required: there is no default MariaDB server). */
  connection: string;
  /** The account's host part; `%` when absent. */
  host?: string;
};

/**
 * An IAM user whose access keys Rotor rotates: a new key is issued beside the one consumers hold
 * (IAM allows two per user), and the old one is deactivated and deleted when grace ends.
 */
export interface AwsIamAccessKeyTarget {
  kind: typeof TargetKind.AwsIamAccessKey;
  /** The aws connection (required: there is no default AWS account). */
  connection: string;
  userName: string;
  /**
   * A key on the user that Rotor did not issue, found when a rotation needs its slot (IAM allows
   * two keys): `refuse` (the default) stops the rotation and names it; `delete` deactivates and
   * deletes it. Rotor never deletes the key it holds as current.
   */
  staleKeys?: 'refuse' | 'delete';
}

export type TargetSpec =
  | PostgresRoleTarget
  | TenantApiKeyTarget
  | RedisAclTarget
  | MariaDbUserTarget
  | AwsIamAccessKeyTarget;

/** Which secret types each target can rotate: a role takes a password, a key registry a key. */
export const TARGET_SECRET_TYPES: Record<TargetKind, readonly SecretType[]> = {
  [TargetKind.PostgresRole]: [SecretType.DatabasePassword],
  [TargetKind.TenantApiKey]: [SecretType.ApiKey],
  [TargetKind.RedisAcl]: [SecretType.DatabasePassword, SecretType.ServiceToken],
  [TargetKind.MariaDbUser]: [SecretType.DatabasePassword],
  [TargetKind.AwsIamAccessKey]: [SecretType.ApiKey, SecretType.ServiceToken],
};

/**
 * PostgreSQL role names Rotor will manage: an unquoted-identifier shape, at most 63 bytes, and no
 * reserved pg_ prefix. Stricter than PostgreSQL itself on purpose; the SQL is quoted regardless.
 */
export const ROLE_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export function isManageableRoleName(role: string): boolean {
  return ROLE_NAME_PATTERN.test(role) && !role.startsWith('pg_');
}

/**
 * Redis ACL user names Rotor will manage: letters, digits and `_.-:@`, starting with a letter or
 * digit, so a name can never read as an ACL rule (`on`, `>pw`, `+@all`, `~*`, `resetpass`, …
 * either start with a rule character or are refused below). `default` is Redis's built-in user
 * that every unauthenticated client is; rotating it would lock out every such client.
 */
export const REDIS_USER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;
const REDIS_RESERVED_USERS = new Set([
  'default',
  'on',
  'off',
  'nopass',
  'resetpass',
  'reset',
  'allkeys',
  'allchannels',
  'allcommands',
  'nocommands',
  'resetkeys',
  'resetchannels',
]);

export function isManageableRedisUser(user: string): boolean {
  return REDIS_USER_PATTERN.test(user) && !REDIS_RESERVED_USERS.has(user.toLowerCase());
}

/** The Redis users a target touches. */
export function targetRedisUsers(target: RedisAclTarget): string[] {
  return target.strategy === 'single' ? [target.user] : [...target.users];
}

export const MARIADB_DEFAULT_HOST = '%';

/**
 * MariaDB account names Rotor will manage: letters, digits, `_`, `.` and `-`, starting with a
 * letter or `_`, at most 80 characters (MariaDB's limit; MySQL's is 32 and the server says so).
 * No quote, backtick, backslash, `%` or NUL can pass, so nothing hostile reaches a statement; the
 * SQL is quoted regardless.
 */
export const MARIADB_USER_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,79}$/;

/**
 * MariaDB host parts: `%`, or a host name, IPv4/IPv6 address or netmask, optionally with `%`
 * wildcards, at most 255 characters. No quotes, spaces, backslashes or `_` (itself a wildcard).
 */
export const MARIADB_HOST_PATTERN = /^[A-Za-z0-9.:%/-]{1,255}$/;

export function isManageableMariaDbUser(user: string): boolean {
  return MARIADB_USER_PATTERN.test(user);
}

export function isManageableMariaDbHost(host: string): boolean {
  return MARIADB_HOST_PATTERN.test(host);
}

/** The MariaDB users a target touches, for validation and for locking them all on retire. */
export function mariaDbTargetUsers(target: MariaDbUserTarget): string[] {
  return target.strategy === 'single' ? [target.user] : [...target.users];
}

/** The roles a target touches, for validation and for locking them all on retire. */
export function targetRoles(target: PostgresRoleTarget): string[] {
  return target.strategy === 'single' ? [target.role] : [...target.roles];
}

/** Prefix of every tenant API key Rotor issues, so a leaked key is recognisable in scans. */
export const TENANT_API_KEY_PREFIX = 'rk_';

/** IAM's own rule for user names (CreateUser's UserName): 1-64 of letters, digits and `_+=,.@-`. */
export const IAM_USER_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;

export function isIamUserName(name: string): boolean {
  return IAM_USER_NAME_PATTERN.test(name);
}

/** The connection a target names, if any (a PostgreSQL role without one uses the default). */
export function targetConnectionOf(target: TargetSpec | undefined): string | undefined {
  return target && 'connection' in target ? target.connection : undefined;
}
