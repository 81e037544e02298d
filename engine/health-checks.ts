import type { ConnectionLike } from '@temporalio/client';
import { sql } from 'kysely';
import type { HealthCheck } from '../api/health';
import type { EngineClients } from './clients';

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
