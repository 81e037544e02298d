import { WorkflowIdConflictPolicy } from '@temporalio/client';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { secretVaultPath, secretWorkflowId } from '../domain';
import type { Policy, RequestOrigin, SecretType, TargetSpec } from '../domain';
import { secretLifecycle } from '../workflows';

export interface StartSecretRequest {
  tenantId: string;
  name: string;
  type: SecretType;
  policy: Policy;
  requestedBy: string;
  target?: TargetSpec;
  /** Where the API request came from, recorded on the rows provisioning writes. */
  origin?: RequestOrigin;
}

/**
 * Starts a secret's lifecycle, idempotently: the workflow id is derived from tenant and name, and
 * a second start while the first runs returns the running one instead of creating another.
 */
export async function startSecretLifecycle(
  client: Client,
  taskQueue: string,
  request: StartSecretRequest,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof secretLifecycle>> {
  return client.workflow.start(secretLifecycle, {
    taskQueue,
    workflowId: secretWorkflowId(request.tenantId, request.name),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [{ ...request, vaultPath: secretVaultPath(request.tenantId, request.name) }],
  });
}
