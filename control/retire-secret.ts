import type { Client } from '@temporalio/client';
import { retireSignal } from '../workflows';
import { toLifecycle } from './lifecycle';

/**
 * Asks a secret's lifecycle to retire: revoke what is live and delete it from Vault. The workflow
 * takes it from there; a lifecycle that has already ended is a LifecycleNotRunningError.
 */
export async function retireSecret(
  client: Client,
  workflowId: string,
  request: { requestedBy: string; reason: string },
): Promise<void> {
  await toLifecycle(() => client.workflow.getHandle(workflowId).signal(retireSignal, request));
}
