export {
  buildEngineClients,
  buildNotifyClients,
  connectTemporalClient,
  engineListenerClients,
} from './clients';
export type { EngineClients, NotifyClients, TargetConnections } from './clients';
export { buildHealthChecks } from './health-checks';
export type { HealthCheck } from './health-checks';
export { createConnectionResolver } from './connections';
export { probeConnection } from './connection-probe';
export type { ProbeCheck, ProbeResult } from './connection-probe';
