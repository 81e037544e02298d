import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { statusQuery } from '../workflows';
import type { SecretStatus } from '../workflows';
import { LifecycleNotRunningError } from './errors';

/** How long a status query may take before the caller falls back to the secret's row. */
const STATUS_QUERY_DEADLINE_MS = 5_000;

/**
 * Sends a message to a secret's lifecycle workflow. A secret whose workflow has ended cannot take
 * signals or updates: that is a LifecycleNotRunningError (409), not a server error.
 */
export async function toLifecycle<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new LifecycleNotRunningError();
    throw err;
  }
}

/**
 * The lifecycle's live status when it answers in time, or null: a workflow with no worker polling
 * would otherwise hold the caller indefinitely. Callers fall back to the secret's row.
 */
export async function readLiveStatus(
  client: Client,
  workflowId: string,
): Promise<SecretStatus | null> {
  return client
    .withDeadline(Date.now() + STATUS_QUERY_DEADLINE_MS, () =>
      client.workflow.getHandle(workflowId).query(statusQuery),
    )
    .catch(() => null);
}
