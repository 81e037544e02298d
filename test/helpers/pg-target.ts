import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/**
 * The PostgreSQL rotation target as the README tells operators to set it up: a rotator login with
 * CREATEROLE and ADMIN OPTION (no INHERIT, no SET) on each managed role, and nothing more.
 */
export interface PgTarget {
  /** ROTOR_TARGET_DATABASE_URL for the least-privileged rotator. */
  rotatorUrl: string;
  /** A superuser client on the target database, for assertions only. */
  superuser: pg.Client;
  /** Creates managed roles (unique names from these stems) the rotator may rotate. */
  createRoles(...stems: string[]): Promise<string[]>;
  /** Logs in as `user`; resolves to null on success or the SQLSTATE of the failure. */
  loginError(user: string, password: string): Promise<string | null>;
  close(): Promise<void>;
}

export async function setUpPgTarget(): Promise<PgTarget> {
  const url = new URL(inject('stack').targetDatabaseUrl);
  const superuser = new pg.Client({ connectionString: url.toString() });
  await superuser.connect();
  const rotator = `rotor_rotator_${randomUUID().slice(0, 8)}`;
  const rotatorPassword = randomBytes(18).toString('base64url');
  await superuser.query(
    `CREATE ROLE ${pg.escapeIdentifier(rotator)} LOGIN CREATEROLE PASSWORD ${pg.escapeLiteral(rotatorPassword)}`,
  );
  // Already made by the global setup; kept for a target database set up some other way.
  await superuser.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const rotatorUrl = new URL(url.toString());
  rotatorUrl.username = rotator;
  rotatorUrl.password = rotatorPassword;
  const login = {
    host: url.hostname,
    port: Number(url.port),
    database: decodeURIComponent(url.pathname.slice(1)),
  };
  return {
    rotatorUrl: rotatorUrl.toString(),
    superuser,
    async createRoles(...stems) {
      const roles = stems.map((s) => `${s}_${randomUUID().slice(0, 8)}`);
      for (const role of roles) {
        const r = pg.escapeIdentifier(role);
        // Created with a password nobody knows: only Rotor's rotation makes it usable.
        await superuser.query(
          `CREATE ROLE ${r} LOGIN PASSWORD ${pg.escapeLiteral(randomBytes(18).toString('hex'))}`,
        );
        await superuser.query(
          `GRANT ${r} TO ${pg.escapeIdentifier(rotator)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
        );
      }
      return roles;
    },
    async loginError(user, password) {
      const client = new pg.Client({ ...login, user, password });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('select 1');
        return null;
      } catch (err) {
        return (err as { code?: string }).code ?? 'unknown';
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    close: () => superuser.end(),
  };
}
