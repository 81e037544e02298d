import { z } from 'zod';
import { isValidName } from '../../../domain';

/**
 * A MariaDB / MySQL account whose password Rotor sets: one user (single), or two that take turns
 * (alternating), on one host pattern. To move into domain/targets.ts when the registry is wired.
 *
 * single: the user's password changes at apply; consumers holding the old one fail from then on.
 * alternating: the user not in use takes the new password and is unlocked; the other keeps working
 * through grace and is locked (ACCOUNT LOCK) at revoke.
 */
export type MariaDbUserTarget =
  | {
      kind: 'mariadb_user';
      /** The connection naming the server and Rotor's admin login; the default one when absent. */
      connection?: string;
      strategy: 'single';
      user: string;
      /** The account's host part; `%` when absent. */
      host?: string;
    }
  | {
      kind: 'mariadb_user';
      connection?: string;
      strategy: 'alternating';
      users: [string, string];
      host?: string;
    };

export const MARIADB_DEFAULT_HOST = '%';

/**
 * Account names Rotor will manage: letters, digits, `_`, `.` and `-`, starting with a letter or
 * `_`, at most 80 characters (MariaDB's limit; MySQL's is 32 and the server says so). No quote,
 * backtick, backslash, `%` or NUL can pass, so nothing hostile reaches a statement; the SQL is
 * quoted regardless.
 */
export const MARIADB_USER_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,79}$/;

/**
 * Host parts: `%`, or a host name, IPv4/IPv6 address or netmask, optionally with `%` wildcards,
 * at most 255 characters. No quotes, spaces, backslashes or `_` (itself a wildcard).
 */
export const MARIADB_HOST_PATTERN = /^[A-Za-z0-9.:%/-]{1,255}$/;

export function isManageableMariaDbUser(user: string): boolean {
  return MARIADB_USER_PATTERN.test(user);
}

export function isManageableMariaDbHost(host: string): boolean {
  return MARIADB_HOST_PATTERN.test(host);
}

/** The users a target touches, for validation and for locking them all on retire. */
export function mariaDbTargetUsers(target: MariaDbUserTarget): string[] {
  return target.strategy === 'single' ? [target.user] : [...target.users];
}

const userField = z
  .string()
  .refine(
    isManageableMariaDbUser,
    'must be 1-80 of A-Z, a-z, 0-9, "_", ".", "-", starting with a letter or "_"',
  );
const hostField = z
  .string()
  .refine(
    isManageableMariaDbHost,
    'must be "%" or a host name, address or netmask (A-Z, 0-9, ".", ":", "/", "-", "%"), at most 255 characters',
  );
const connectionField = z
  .string()
  .refine(isValidName, 'must be a connection name (1-63 of a-z, 0-9, ".", "_", "-")');

/** The request shape of a mariadb_user target; messages name the rule, never echo the value. */
export const mariaDbUserTargetSchema = z.discriminatedUnion('strategy', [
  z.strictObject({
    kind: z.literal('mariadb_user'),
    connection: connectionField.optional(),
    strategy: z.literal('single'),
    user: userField,
    host: hostField.optional(),
  }),
  z.strictObject({
    kind: z.literal('mariadb_user'),
    connection: connectionField.optional(),
    strategy: z.literal('alternating'),
    users: z
      .tuple([userField, userField])
      .refine(([a, b]) => a !== b, 'must name two different users'),
    host: hostField.optional(),
  }),
]) satisfies z.ZodType<MariaDbUserTarget>;
