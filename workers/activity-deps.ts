import { createTargetRegistry } from '../activities';
import type { ActivityDeps } from '../activities';
import type { EngineClients } from '../engine';

/**
 * What the worker's activities run over: engine/'s clients, and one driver per rotation target
 * kind built on its target connections. Built here, where activities are assembled, because the
 * drivers are activity code; engine/ only connects.
 */
export function activityDepsFor(clients: EngineClients): EngineClients & ActivityDeps {
  return { ...clients, targets: createTargetRegistry(clients.targetConnections) };
}
