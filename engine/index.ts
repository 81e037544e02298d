export { buildEngineClients, buildNotifyClients, connectTemporalClient } from './clients';
export type { EngineClients } from './clients';
export { buildHealthChecks } from './health-checks';
