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
  // A value must reach Vault without passing through workflow input. Supplied types take their
  // first value through POST /secrets/{tenant}/{name}/supply once created; generated types make
  // their own. An initial value in the create request is refused rather than mishandled.
  if (request.initialValue !== undefined) {
    throw new UnsupportedError(
      'initialValue',
      request.policy.autoGenerate
        ? 'Rotor generates this type; an initial value is not accepted'
        : 'supply the value with POST /api/v1/secrets/{tenantId}/{name}/supply once the secret is created',
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
