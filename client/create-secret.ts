import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { Config } from '../config';
import type { secretLifecycle } from '../workflows';
import { UnsupportedError } from './errors';
import { startSecretLifecycle } from './start-secret';
import { validateCreateSecret } from './validate-secret';

/**
 * The one way a secret comes under management: validate everything first (a ValidationError
 * names each bad field and nothing starts), then start its lifecycle idempotently.
 */
export async function createSecret(
  client: Client,
  config: Pick<Config, 'policy' | 'temporal'>,
  input: unknown,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof secretLifecycle>> {
  const request = validateCreateSecret(input, config.policy);
  // Supplied values must reach Vault without passing through workflow input; until that path
  // exists (owner-supplied secrets), refuse rather than accept and mishandle them.
  if (request.initialValue !== undefined) {
    throw new UnsupportedError('initialValue', 'supplying an initial value is not supported yet');
  }
  if (!request.policy.autoGenerate) {
    throw new UnsupportedError(
      'type',
      `${request.type} values are supplied by the owner, which is not supported yet`,
    );
  }
  return startSecretLifecycle(client, config.temporal.taskQueue, {
    tenantId: request.tenantId,
    name: request.name,
    type: request.type,
    policy: request.policy,
    requestedBy: request.requestedBy,
    ...(request.target ? { target: request.target } : {}),
  });
}
