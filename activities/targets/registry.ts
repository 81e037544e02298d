import type { Kysely } from 'kysely';
import { DEFAULT_CONNECTION } from '../../domain';
import type { PostgresRoleTarget, RedisAclTarget, TargetSpec } from '../../domain';
import type { Database } from '../../db/schema';
import type { ConnectionResolver } from './connections';
import type { TargetDriver, TargetRegistry } from './driver';
import { createPostgresRoleDriver } from './postgres-role/driver';
import type { PostgresTargetDeps } from './postgres-role/driver';
import { createRedisAclDriver } from './redis-acl/driver';
import { createTenantApiKeyDriver } from './tenant-api-key/driver';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain';

export interface TargetDeps {
  db: Kysely<Database>;
  /** The default PostgreSQL connection; absent when ROTOR_TARGET_DATABASE_URL is not configured. */
  postgres?: PostgresTargetDeps;
  /** Named connections (engine database rows, credentials in Vault). */
  connections?: ConnectionResolver;
  apiKeyPepper?: string;
}

const notConfigured = (what: string): never => {
  throw ApplicationFailure.nonRetryable(`${what} is not configured`, ErrorType.TargetRejected);
};

const UNCONFIGURED_POSTGRES: PostgresTargetDeps = {
  admin: { query: () => notConfigured('ROTOR_TARGET_DATABASE_URL (the PostgreSQL target)') },
  login: { host: '', port: 0, database: '' },
};

/**
 * PostgreSQL roles on the connection each spec names: the default one (a spec without a
 * connection, as every secret and recorded history from before connections) or a named one.
 */
function postgresOnConnections(deps: TargetDeps): TargetDriver<PostgresRoleTarget> {
  const offline = createPostgresRoleDriver(UNCONFIGURED_POSTGRES);
  const on = async (spec: PostgresRoleTarget): Promise<TargetDriver<PostgresRoleTarget>> => {
    if (spec.connection === undefined || spec.connection === DEFAULT_CONNECTION) {
      return createPostgresRoleDriver(deps.postgres ?? UNCONFIGURED_POSTGRES);
    }
    if (!deps.connections) return notConfigured('connections');
    return createPostgresRoleDriver(await deps.connections.postgres(spec.connection));
  };
  return {
    stageFields: (spec, current) => offline.stageFields(spec, current),
    oldStopsAtApply: (spec) => offline.oldStopsAtApply(spec),
    apply: async (spec, ...rest) => (await on(spec)).apply(spec, ...rest),
    verify: async (spec, ...rest) => (await on(spec)).verify(spec, ...rest),
    compensate: async (spec, ...rest) => (await on(spec)).compensate(spec, ...rest),
    revoke: async (spec, ...rest) => (await on(spec)).revoke(spec, ...rest),
    retire: async (spec, ...rest) => (await on(spec)).retire(spec, ...rest),
  };
}

/** Every target kind's driver. Exhaustive: a kind without a driver is a compile error. */
export function createTargetRegistry(deps: TargetDeps): TargetRegistry {
  return {
    postgres_role: postgresOnConnections(deps),
    tenant_api_key: createTenantApiKeyDriver({ db: deps.db, pepper: deps.apiKeyPepper }),
    redis_acl: createRedisAclDriver((spec: RedisAclTarget) =>
      deps.connections ? deps.connections.redis(spec.connection) : notConfigured('connections'),
    ),
  };
}

/** The driver for a spec, typed to it. */
export function driverFor<S extends TargetSpec>(
  registry: TargetRegistry,
  spec: S,
): TargetDriver<S> {
  return registry[spec.kind] as unknown as TargetDriver<S>;
}
