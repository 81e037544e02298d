import type { Kysely } from 'kysely';
import type { TargetSpec } from '../../domain';
import type { Database } from '../../db/schema';
import type { TargetDriver, TargetRegistry } from './driver';
import { createPostgresRoleDriver } from './postgres-role/driver';
import type { PostgresTargetDeps } from './postgres-role/driver';
import { createTenantApiKeyDriver } from './tenant-api-key/driver';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain';

export interface TargetDeps {
  db: Kysely<Database>;
  /** Absent when ROTOR_TARGET_DATABASE_URL is not configured. */
  postgres?: PostgresTargetDeps;
  apiKeyPepper?: string;
}

const notConfigured = (what: string): never => {
  throw ApplicationFailure.nonRetryable(`${what} is not configured`, ErrorType.TargetRejected);
};

/** Every target kind's driver. Exhaustive: a kind without a driver is a compile error. */
export function createTargetRegistry(deps: TargetDeps): TargetRegistry {
  return {
    postgres_role: createPostgresRoleDriver(
      deps.postgres ?? {
        admin: { query: () => notConfigured('ROTOR_TARGET_DATABASE_URL (the PostgreSQL target)') },
        login: { host: '', port: 0, database: '' },
      },
    ),
    tenant_api_key: createTenantApiKeyDriver({ db: deps.db, pepper: deps.apiKeyPepper }),
  };
}

/** The driver for a spec, typed to it. */
export function driverFor<S extends TargetSpec>(
  registry: TargetRegistry,
  spec: S,
): TargetDriver<S> {
  return registry[spec.kind] as unknown as TargetDriver<S>;
}
