import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';
import { ErrorType, isManageableRoleName, targetRoles } from '../../../domain';
import type { PostgresRoleTarget } from '../../../domain';
import type { StagedCredential, TargetDriver } from '../driver';
import { scramSha256Verifier } from './scram';

/** The rotator's own connection to the target server, and where consumers log in. */
export type { PostgresTargetDeps } from '../../../engine/target-deps';
import type { PostgresTargetDeps } from '../../../engine/target-deps';

const INVALID_PASSWORD = '28P01';

/** How long verification waits to log in, and for its one query, before the attempt fails. */
const VERIFY_TIMEOUT_MS = 5_000;

/**
 * PostgreSQL roles. The password goes to the server only as a SCRAM-SHA-256 verifier; role names
 * are checked against a strict pattern and still quoted with escapeIdentifier, and the verifier
 * with escapeLiteral, because ALTER ROLE cannot take bind parameters.
 */
export function createPostgresRoleDriver(
  deps: PostgresTargetDeps,
): TargetDriver<PostgresRoleTarget> {
  const ident = (role: string): string => {
    if (!isManageableRoleName(role)) {
      throw ApplicationFailure.nonRetryable(
        `refusing to manage PostgreSQL role ${JSON.stringify(role.slice(0, 80))}: not a plain role name`,
        ErrorType.ValidationFailed,
      );
    }
    return pg.escapeIdentifier(role);
  };
  const roleExists = async (role: string): Promise<boolean> =>
    ((await deps.admin.query('select 1 from pg_roles where rolname = $1', [role])).rowCount ?? 0) >
    0;
  const requireRole = async (role: string): Promise<void> => {
    if (!(await roleExists(role))) {
      throw ApplicationFailure.nonRetryable(
        `PostgreSQL role ${role} does not exist on the target`,
        ErrorType.TargetNotFound,
      );
    }
  };
  const alter = async (sql: string): Promise<void> => {
    try {
      await deps.admin.query(sql);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // 42501: the rotator lacks CREATEROLE or ADMIN OPTION on the role; retrying cannot help.
      if (code === '42501') {
        throw ApplicationFailure.nonRetryable(
          'the rotator may not alter this role (needs CREATEROLE and ADMIN OPTION on it)',
          ErrorType.TargetRejected,
        );
      }
      throw ApplicationFailure.retryable(
        `PostgreSQL target refused ALTER ROLE (${code ?? 'connection error'})`,
        ErrorType.TargetRejected,
      );
    }
  };
  const setPassword = async (role: string, password: string): Promise<void> => {
    const name = ident(role);
    await requireRole(role);
    const verifier = pg.escapeLiteral(scramSha256Verifier(password));
    await alter(`ALTER ROLE ${name} WITH LOGIN PASSWORD ${verifier}`);
  };
  const lock = async (role: string): Promise<void> => {
    const name = ident(role);
    if (!(await roleExists(role))) return; // Nothing to lock; retiring must not fail on it.
    await alter(`ALTER ROLE ${name} WITH NOLOGIN`);
  };
  const roleOf = (spec: PostgresRoleTarget, staged: StagedCredential): string =>
    spec.strategy === 'single' ? spec.role : (staged.username ?? spec.roles[0]);

  return {
    oldStopsAtApply(spec) {
      return spec.strategy === 'single';
    },

    stageFields(spec, current) {
      if (spec.strategy === 'single') return { fields: { username: spec.role } };
      // The role not in use takes the new password; the first rotation starts with the first.
      const [a, b] = spec.roles;
      return { fields: { username: current?.username === a ? b : a } };
    },

    async apply(spec, staged) {
      await setPassword(roleOf(spec, staged), staged.value);
    },

    async verify(spec, staged) {
      const role = roleOf(spec, staged);
      const client = new pg.Client({
        ...deps.login,
        user: role,
        password: staged.value,
        // A server that takes the connection and never answers would hold this attempt until the
        // activity's timeout; failing sooner leaves the retry budget to real attempts.
        connectionTimeoutMillis: VERIFY_TIMEOUT_MS,
        query_timeout: VERIFY_TIMEOUT_MS,
      });
      // A connect error is swallowed by pg unless handled; it is reported below instead.
      client.on('error', () => undefined);
      try {
        await client.connect();
        const { rows } = await client.query<{ who: string }>('select current_user as who');
        if (rows[0]?.who !== role) throw new Error('logged in as another role');
      } catch (err) {
        const code = (err as { code?: string }).code;
        throw ApplicationFailure.retryable(
          `logging in to PostgreSQL as ${role} with the staged password failed (${code ?? 'connection error'})`,
          code === INVALID_PASSWORD ? ErrorType.VerificationFailed : ErrorType.TargetRejected,
        );
      } finally {
        await client.end().catch(() => undefined);
      }
    },

    async compensate(spec, staged, current) {
      const role = roleOf(spec, staged);
      if (spec.strategy === 'alternating') {
        // The standby role took the failed password; consumers are on the other one. Lock it.
        if (current?.username !== role) await lock(role);
        return;
      }
      // Single role: put back the password consumers hold. With no earlier version (the very
      // first rotation) there is nothing Rotor knows to restore.
      if (current) await setPassword(role, current.value);
    },

    async revoke(spec, _revoked, current) {
      // Single: the old password stopped working when the new one was set. Alternating: the role
      // that is not current is the previous credential; lock it (NOLOGIN), never drop it.
      if (spec.strategy === 'single' || !current?.username) return;
      for (const role of spec.roles) if (role !== current.username) await lock(role);
    },

    async retire(spec) {
      for (const role of targetRoles(spec)) await lock(role);
    },
  };
}
