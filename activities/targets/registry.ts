import type { Kysely } from 'kysely';
import { DEFAULT_CONNECTION } from '../../domain';
import type {
  AwsIamAccessKeyTarget,
  MariaDbUserTarget,
  PostgresRoleTarget,
  RedisAclTarget,
  TargetSpec,
} from '../../domain';
import type { Database } from '../../db/schema';
import type { ConnectionResolver } from './connections';
import type { TargetDriver, TargetRegistry } from './driver';
import { createPostgresRoleDriver } from './postgres-role/driver';
import type { PostgresTargetDeps } from './postgres-role/driver';
import { createMariaDbUserDriver } from './mariadb-user/driver';
import type { MariaDbTargetDeps } from './mariadb-user/driver';
import { createRedisAclDriver } from './redis-acl/driver';
import { createTenantApiKeyDriver } from './tenant-api-key/driver';
import { createAwsIamKeyDriver } from './aws-iam-key/driver';
import type { IssuingTargetDriver } from './aws-iam-key/issued';
import { ApplicationFailure } from '@temporalio/common';
import { iamUserName } from './aws-iam-key/spec';
import { ErrorType } from '../../domain';

export interface TargetDeps {
  db: Kysely<Database>;
  /** The default PostgreSQL connection; absent when ROTOR_TARGET_DATABASE_URL is not configured. */
  postgres?: PostgresTargetDeps;
  /** Named connections (engine database rows, credentials in Vault). */
  connections?: ConnectionResolver;
  apiKeyPepper?: string;
  /** How patiently verify waits for a new AWS key to authenticate (IAM is eventually consistent). */
  aws?: { verifyAttempts?: number; verifyDelayMs?: number };
}

const notConfigured = (what: string): never => {
  throw ApplicationFailure.nonRetryable(`${what} is not configured`, ErrorType.TargetRejected);
};

const UNCONFIGURED_POSTGRES: PostgresTargetDeps = {
  admin: { query: () => notConfigured('ROTOR_TARGET_DATABASE_URL (the PostgreSQL target)') },
  login: { host: '', port: 0, database: '' },
};

const UNCONFIGURED_MARIADB: MariaDbTargetDeps = {
  admin: { query: () => notConfigured('connections') },
  login: { host: '', port: 0 },
};

/**
 * A driver whose I/O steps run on the driver `on` builds for each spec's connection; the steps
 * that touch no server (stageFields, oldStopsAtApply) run on `offline`, which reaches nothing.
 */
function perConnection<S extends TargetSpec>(
  offline: TargetDriver<S>,
  on: (spec: S) => Promise<TargetDriver<S>>,
): TargetDriver<S> {
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

/**
 * PostgreSQL roles on the connection each spec names: the default one (a spec without a
 * connection, as every secret and recorded history from before connections) or a named one.
 */
function postgresOnConnections(deps: TargetDeps): TargetDriver<PostgresRoleTarget> {
  return perConnection(createPostgresRoleDriver(UNCONFIGURED_POSTGRES), async (spec) => {
    if (spec.connection === undefined || spec.connection === DEFAULT_CONNECTION) {
      return createPostgresRoleDriver(deps.postgres ?? UNCONFIGURED_POSTGRES);
    }
    if (!deps.connections) return notConfigured('connections');
    return createPostgresRoleDriver(await deps.connections.postgres(spec.connection));
  });
}

/** MariaDB / MySQL users on the connection each spec names (there is no default one). */
function mariaDbOnConnections(deps: TargetDeps): TargetDriver<MariaDbUserTarget> {
  const offline = createMariaDbUserDriver(UNCONFIGURED_MARIADB);
  return perConnection(offline, async (spec) => {
    // Hostile names are refused before the connection is even looked up.
    offline.stageFields(spec, null);
    if (!deps.connections) return notConfigured('connections');
    return createMariaDbUserDriver(await deps.connections.mariadb(spec.connection));
  });
}

const UNREACHABLE_AWS = {
  iam: { send: () => notConfigured('connections') },
  stsFor: () => ({ send: () => notConfigured('connections'), destroy: () => undefined }),
};

/** An issuing driver (apply returns what the target issued) as the registry's TargetDriver. */
function asTargetDriver<S extends { kind: string }>(
  issuing: IssuingTargetDriver<S>,
): TargetDriver<S> {
  return {
    stageFields: (spec, current) => issuing.stageFields(spec, current),
    oldStopsAtApply: (spec) => issuing.oldStopsAtApply(spec),
    apply: async (spec, staged, step, issue) =>
      issuing.apply(spec, staged, (await issue?.current()) ?? null, step, issue?.recordPriorIds),
    verify: (spec, staged, step) => issuing.verify(spec, staged, step),
    compensate: (spec, staged, current, step) => issuing.compensate(spec, staged, current, step),
    revoke: (spec, revoked, current, step) => issuing.revoke(spec, revoked, current, step),
    retire: (spec, step, held) => issuing.retire(spec, step, held),
  };
}

/**
 * AWS IAM access keys on the aws connection each spec names (there is no default account).
 * Hostile user names are refused by the driver before the connection is even looked up.
 */
function awsOnConnections(deps: TargetDeps): TargetDriver<AwsIamAccessKeyTarget> {
  const offline = asTargetDriver<AwsIamAccessKeyTarget>(createAwsIamKeyDriver(UNREACHABLE_AWS));
  return perConnection(offline, async (spec) => {
    iamUserName(spec);
    if (!deps.connections) return notConfigured('connections');
    return asTargetDriver<AwsIamAccessKeyTarget>(
      createAwsIamKeyDriver({ ...(await deps.connections.aws(spec.connection)), ...deps.aws }),
    );
  });
}

/** Every target kind's driver. Exhaustive: a kind without a driver is a compile error. */
export function createTargetRegistry(deps: TargetDeps): TargetRegistry {
  return {
    postgres_role: postgresOnConnections(deps),
    tenant_api_key: createTenantApiKeyDriver({ db: deps.db, pepper: deps.apiKeyPepper }),
    redis_acl: createRedisAclDriver((spec: RedisAclTarget) =>
      deps.connections ? deps.connections.redis(spec.connection) : notConfigured('connections'),
    ),
    mariadb_user: mariaDbOnConnections(deps),
    aws_iam_access_key: awsOnConnections(deps),
  };
}

/** The driver for a spec, typed to it. */
export function driverFor<S extends TargetSpec>(
  registry: TargetRegistry,
  spec: S,
): TargetDriver<S> {
  return registry[spec.kind] as unknown as TargetDriver<S>;
}
