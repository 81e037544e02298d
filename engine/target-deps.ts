import type { IAMClient } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import type mysql from 'mysql2/promise';
import type pg from 'pg';

/**
 * The shapes of the target connections engine/ builds and the target drivers (activities/targets)
 * drive. Declared here, on the side that builds them, so engine/ depends on no activity code.
 */

/** How the PostgreSQL driver reaches one server: the rotator's pool, and a consumer-style login. */
export interface PostgresTargetDeps {
  /** A pool logged in as the rotator's least-privileged role (CREATEROLE + ADMIN on the roles). */
  admin: Pick<pg.Pool, 'query'>;
  /** Host, port and database that verification logs in to, as a consumer would. */
  login: {
    host: string;
    port: number;
    database: string;
    /** TLS as the connection sets it; absent or false: plain TCP. */
    ssl?: false | { rejectUnauthorized: boolean; ca?: string; servername?: string };
  };
}

/** One command to the target Redis, as the rotator; arguments travel as separate RESP strings. */
export interface RedisAdmin {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** How the Redis driver reaches one server: an admin session, and a consumer-style login. */
export interface RedisTargetDeps {
  /** Runs fn in one session logged in as the rotator, and closes it. */
  withAdmin<T>(fn: (admin: RedisAdmin) => Promise<T>): Promise<T>;
  /**
   * Logs in as user with password, as a consumer would (AUTH user password). Rejects with the
   * server's error (WRONGPASS…) or a connection error.
   */
  login(user: string, password: string): Promise<void>;
  /** The rotator's own user, which the driver never manages. */
  rotatorUser: string;
}

/** How the MariaDB driver reaches one server: the rotator's pool, and a consumer-style login. */
export interface MariaDbTargetDeps {
  /** A pool logged in as the rotator's admin user (the README's least-privilege grants). */
  admin: Pick<mysql.Pool, 'query'>;
  /** Host and port that verification logs in to, as a consumer would. */
  login: { host: string; port: number; ssl?: mysql.ConnectionOptions['ssl'] };
}

/**
 * Reaches the server a target's connection names, logged in with the credential Vault holds for
 * it. Fails with TargetNotFound for an unknown connection and ValidationFailed for one of another
 * kind. Only engine/ builds the real one.
 */
/** How the AWS IAM driver reaches one account (or AWS-compatible server). */
export interface AwsTargetDeps {
  /** Rotor's own principal: iam:ListAccessKeys, CreateAccessKey, UpdateAccessKey, DeleteAccessKey. */
  iam: Pick<IAMClient, 'send'>;
  /** An STS client signing with the given key, to prove the key works (closed after each use). */
  stsFor(credentials: {
    accessKeyId: string;
    secretAccessKey: string;
  }): Pick<STSClient, 'send' | 'destroy'>;
}

export interface ConnectionResolver {
  postgres(name: string): Promise<PostgresTargetDeps>;
  redis(name: string): Promise<RedisTargetDeps>;
  mariadb(name: string): Promise<MariaDbTargetDeps>;
  aws(name: string): Promise<AwsTargetDeps>;
}
