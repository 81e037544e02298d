import type { Client } from '@temporalio/client';
import type { RequestOrigin } from '../domain';
import { retireSignal } from '../workflows';
import { toLifecycle } from './lifecycle';

/**
 * Asks a secret's lifecycle to retire: revoke what is live and delete it from Vault. The workflow
 * takes it from there; a lifecycle that has already ended is a LifecycleNotRunningError.
 */
export async function retireSecret(
  client: Client,
  workflowId: string,
  request: { requestedBy: string; reason: string; origin?: RequestOrigin },
): Promise<void> {
  await toLifecycle(() => client.workflow.getHandle(workflowId).signal(retireSignal, request));
}
