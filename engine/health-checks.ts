import type { ConnectionLike } from '@temporalio/client';
import { sql } from 'kysely';
import type { EngineClients } from './clients';

/**
 * A dependency probe: resolves when the dependency answers, rejects otherwise. Defined here, where
 * the probes are built, so the API's health routes depend on engine/ and not the other way.
 */
export type HealthCheck = () => Promise<void>;

/** Probes for /healthz and /readyz over the process's real clients. */
export function buildHealthChecks(
  clients: EngineClients,
  temporal: ConnectionLike,
): Record<string, HealthCheck> {
  return {
    temporal: async () => {
      await temporal.workflowService.getSystemInfo({});
    },
    vault: async () => {
      // sys/health answers 200 only when unsealed and active.
      await clients.vaultClient.health();
    },
    database: async () => {
      await sql`select 1`.execute(clients.db);
    },
  };
}
