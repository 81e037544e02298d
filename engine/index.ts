export { buildEngineClients, buildNotifyClients, connectTemporalClient } from './clients';
export type { EngineClients } from './clients';
export { buildHealthChecks } from './health-checks';
export { createConnectionResolver } from './connections';
export { probeConnection } from './connection-probe';
export type { ProbeCheck, ProbeResult } from './connection-probe';
