import type { PostgresTargetDeps } from './postgres-role/driver';
import type { RedisTargetDeps } from './redis-acl/deps';

/**
 * Reaches the server a target's connection names, logged in with the credential Vault holds for
 * it. Fails with TargetNotFound for an unknown connection and ValidationFailed for one of another
 * kind. Only engine/ builds the real one.
 */
export interface ConnectionResolver {
  postgres(name: string): Promise<PostgresTargetDeps>;
  redis(name: string): Promise<RedisTargetDeps>;
}
