import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, isManageableRedisUser } from '../../../domain';
import type { RedisAdmin } from './deps';

/** What Redis stores for a password, and what ACL SETUSER is sent: lowercase hex SHA-256. */
export function redisPasswordHash(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

/**
 * The only ACL rules the driver ever sends: switch the user on or off, drop all its passwords, add
 * or remove one password by hash. Anything else (key patterns, command grants, `>plaintext`,
 * `nopass`) is refused before a command leaves the process.
 */
const ALLOWED_RULE = /^(on|off|resetpass|[#!][0-9a-f]{64})$/;

export function assertManageableUser(user: string, rotatorUser: string): void {
  if (!isManageableRedisUser(user) || user === rotatorUser) {
    throw ApplicationFailure.nonRetryable(
      `refusing to manage Redis user ${JSON.stringify(user.slice(0, 80))}: not a plain user name, a reserved word, or the rotator itself`,
      ErrorType.ValidationFailed,
    );
  }
}

/** Redis error replies the driver tells apart; the reply text never carries a password. */
function failureOf(err: unknown, what: string): ApplicationFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (message.startsWith('NOPERM')) {
    const grant = `+${what.toLowerCase().replace(' ', '|')}`;
    return ApplicationFailure.create({
      message: `the rotator's Redis user may not run ${what} (grant ${grant})`,
      type: ErrorType.TargetRejected,
      nonRetryable: true,
      details: [{ missingPrivilege: grant }],
    });
  }
  const code = /^[A-Z]{2,}\b/.exec(message)?.[0] ?? 'connection error';
  return ApplicationFailure.retryable(
    `Redis target refused ${what} (${code})`,
    ErrorType.TargetRejected,
  );
}

export interface AclUser {
  on: boolean;
  /** SHA-256 hex of each password the user holds. */
  passwords: string[];
}

/** ACL GETUSER, parsed; undefined when the user does not exist. */
export async function getUser(admin: RedisAdmin, user: string): Promise<AclUser | undefined> {
  let reply: unknown;
  try {
    reply = await admin.call('ACL', 'GETUSER', user);
  } catch (err) {
    throw failureOf(err, 'ACL GETUSER');
  }
  if (!Array.isArray(reply)) return undefined;
  const fields = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
  const flags = fields.get('flags');
  const passwords = fields.get('passwords');
  return {
    on: Array.isArray(flags) && flags.map(String).includes('on'),
    passwords: Array.isArray(passwords) ? passwords.map(String) : [],
  };
}

export async function requireUser(admin: RedisAdmin, user: string): Promise<AclUser> {
  const found = await getUser(admin, user);
  if (!found) {
    throw ApplicationFailure.nonRetryable(
      `Redis user ${user} does not exist on the target (create it first; see the README)`,
      ErrorType.TargetNotFound,
    );
  }
  return found;
}

/** ACL SETUSER with rules the driver built, each checked against ALLOWED_RULE first. */
export async function setUser(admin: RedisAdmin, user: string, ...rules: string[]): Promise<void> {
  for (const rule of rules) {
    if (!ALLOWED_RULE.test(rule)) {
      throw ApplicationFailure.nonRetryable(
        'refusing to send an ACL rule outside on/off/resetpass/#hash/!hash',
        ErrorType.ValidationFailed,
      );
    }
  }
  try {
    await admin.call('ACL', 'SETUSER', user, ...rules);
  } catch (err) {
    throw failureOf(err, 'ACL SETUSER');
  }
}
