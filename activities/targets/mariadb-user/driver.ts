import { ApplicationFailure } from '@temporalio/common';
import mysql from 'mysql2/promise';
import { ErrorType } from '../../../domain';
import type { StagedCredential, TargetDriver } from '../driver';
import { nativePasswordHash } from './native-password';
import {
  MARIADB_DEFAULT_HOST,
  isManageableMariaDbHost,
  isManageableMariaDbUser,
  mariaDbTargetUsers,
} from './spec';
import type { MariaDbUserTarget } from './spec';
import type { MariaDbTargetDeps } from '../../../engine/target-deps';

// Declared where engine/ builds it; the driver uses it from here.
export type { MariaDbTargetDeps } from '../../../engine/target-deps';

/** Server error numbers the driver tells apart (MariaDB's and MySQL's where they differ). */
const ER = {
  /** ALTER USER on an account that does not exist. */
  CANNOT_USER: 1396,
  ACCESS_DENIED: 1045,
  DB_ACCESS_DENIED: 1044,
  TABLE_ACCESS_DENIED: 1142,
  SPECIFIC_ACCESS_DENIED: 1227,
  ACCOUNT_LOCKED_MARIADB: 4151,
  ACCOUNT_LOCKED_MYSQL: 3118,
} as const;
const PRIVILEGE_ERRORS = new Set<number>([
  ER.DB_ACCESS_DENIED,
  ER.TABLE_ACCESS_DENIED,
  ER.SPECIFIC_ACCESS_DENIED,
]);
const LOGIN_REFUSED = new Set<number>([
  ER.ACCESS_DENIED,
  ER.ACCOUNT_LOCKED_MARIADB,
  ER.ACCOUNT_LOCKED_MYSQL,
]);

const errnoOf = (err: unknown): number | undefined => (err as { errno?: number }).errno;
const codeOf = (err: unknown): string => (err as { code?: string }).code ?? 'connection error';

/**
 * MariaDB / MySQL accounts. The password goes to the server only as its mysql_native_password
 * hash (`IDENTIFIED WITH mysql_native_password AS '*…'`, accepted by MariaDB and MySQL 8.0), so
 * the plaintext never reaches the general or slow log. User and host are checked against strict
 * patterns before any statement is sent, and still quoted, because ALTER USER cannot take bind
 * parameters.
 */
export function createMariaDbUserDriver(deps: MariaDbTargetDeps): TargetDriver<MariaDbUserTarget> {
  const hostOf = (spec: MariaDbUserTarget): string => spec.host ?? MARIADB_DEFAULT_HOST;
  /** `'user'@'host'`, or a non-retryable failure naming the field (never echoing it whole). */
  const account = (spec: MariaDbUserTarget, user: string): string => {
    const host = hostOf(spec);
    if (!isManageableMariaDbUser(user)) {
      throw ApplicationFailure.nonRetryable(
        'refusing to manage this MariaDB user: user must be 1-80 of A-Z, a-z, 0-9, "_", ".", "-"',
        ErrorType.ValidationFailed,
      );
    }
    if (!isManageableMariaDbHost(host)) {
      throw ApplicationFailure.nonRetryable(
        'refusing to manage this MariaDB user: host must be "%" or a host name, address or netmask',
        ErrorType.ValidationFailed,
      );
    }
    return `${mysql.escape(user)}@${mysql.escape(host)}`;
  };
  /** Every user of the spec checked up front, so a bad second user stops the first statement. */
  const checkAll = (spec: MariaDbUserTarget): void => {
    for (const user of mariaDbTargetUsers(spec)) account(spec, user);
  };
  const alter = async (sql: string, who: string): Promise<void> => {
    try {
      await deps.admin.query(sql);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === ER.CANNOT_USER) {
        throw ApplicationFailure.nonRetryable(
          `MariaDB user ${who} does not exist on the target`,
          ErrorType.TargetNotFound,
        );
      }
      if (errno !== undefined && PRIVILEGE_ERRORS.has(errno)) {
        // Retrying cannot grant a privilege; the message says which one is missing.
        throw ApplicationFailure.create({
          message: `the rotator may not alter ${who} (it lacks the global CREATE USER privilege: GRANT CREATE USER ON *.* TO the rotator)`,
          type: ErrorType.TargetRejected,
          nonRetryable: true,
          details: [{ missingPrivilege: 'CREATE USER' }],
        });
      }
      throw ApplicationFailure.retryable(
        `MariaDB target refused ALTER USER (${codeOf(err)})`,
        ErrorType.TargetRejected,
      );
    }
  };
  const setPassword = async (
    spec: MariaDbUserTarget,
    user: string,
    password: string,
  ): Promise<void> => {
    const name = account(spec, user);
    const hash = mysql.escape(nativePasswordHash(password));
    // One statement: the account takes the hash and is unlocked together, or neither happens.
    await alter(
      `ALTER USER ${name} IDENTIFIED WITH mysql_native_password AS ${hash} ACCOUNT UNLOCK`,
      user,
    );
  };
  const lock = async (spec: MariaDbUserTarget, user: string): Promise<void> => {
    // IF EXISTS: a user dropped by hand has nothing to lock, and retiring must not fail on it.
    await alter(`ALTER USER IF EXISTS ${account(spec, user)} ACCOUNT LOCK`, user);
  };
  const userOf = (spec: MariaDbUserTarget, staged: StagedCredential): string =>
    spec.strategy === 'single' ? spec.user : (staged.username ?? spec.users[0]);

  return {
    oldStopsAtApply(spec) {
      return spec.strategy === 'single';
    },

    stageFields(spec, current) {
      checkAll(spec);
      if (spec.strategy === 'single') return { fields: { username: spec.user } };
      // The user not in use takes the new password; the first rotation starts with the first.
      const [a, b] = spec.users;
      return { fields: { username: current?.username === a ? b : a } };
    },

    async apply(spec, staged) {
      checkAll(spec);
      await setPassword(spec, userOf(spec, staged), staged.value);
    },

    async verify(spec, staged) {
      checkAll(spec);
      const user = userOf(spec, staged);
      const expected = `${user}@${hostOf(spec)}`;
      let connection: mysql.Connection | undefined;
      try {
        connection = await mysql.createConnection({
          ...deps.login,
          user,
          password: staged.value,
          connectTimeout: 10_000,
        });
        const [rows] = await connection.query<mysql.RowDataPacket[]>(
          'SELECT CURRENT_USER() AS who',
        );
        if (rows[0]?.who !== expected) {
          throw ApplicationFailure.retryable(
            `logging in to MariaDB as ${user} matched another account than ${expected}`,
            ErrorType.VerificationFailed,
          );
        }
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        const errno = errnoOf(err);
        throw ApplicationFailure.retryable(
          `logging in to MariaDB as ${user} with the staged password failed (${codeOf(err)})`,
          errno !== undefined && LOGIN_REFUSED.has(errno)
            ? ErrorType.VerificationFailed
            : ErrorType.TargetRejected,
        );
      } finally {
        await connection?.end().catch(() => undefined);
      }
    },

    async compensate(spec, staged, current) {
      checkAll(spec);
      const user = userOf(spec, staged);
      if (spec.strategy === 'alternating') {
        // The standby user took the failed password; consumers are on the other one. Lock it.
        if (current?.username !== user) await lock(spec, user);
        return;
      }
      // Single user: put back the password consumers hold. With no earlier version (the very
      // first rotation) there is nothing Rotor knows to restore.
      if (current) await setPassword(spec, user, current.value);
    },

    async revoke(spec, _revoked, current) {
      checkAll(spec);
      // Single: the old password stopped working when the new one was set. Alternating: the user
      // that is not current holds the previous credential; lock it, never drop it.
      if (spec.strategy === 'single' || !current?.username) return;
      for (const user of spec.users) if (user !== current.username) await lock(spec, user);
    },

    async retire(spec) {
      checkAll(spec);
      for (const user of mariaDbTargetUsers(spec)) await lock(spec, user);
    },
  };
}
