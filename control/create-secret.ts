import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { Config } from '../config';
import type { RequestOrigin } from '../domain';
import type { secretLifecycle } from '../workflows';
import { ValidationError } from './errors';
import { ImportNotConfiguredError, checkInitialValue, importSecret } from './import-value';
import type { ImportVault } from './import-value';
import { startSecretLifecycle } from './start-secret';
import { checkTargetConnection } from './target-connection';
import type { ConnectionLookup } from './target-connection';
import { validateCreateSecret } from './validate-secret';

/**
 * The one way a secret comes under management: validate everything first (a ValidationError
 * names each bad field and nothing starts), then start its lifecycle idempotently. `origin`, the
 * API caller's IP and user agent, goes on the rows provisioning writes.
 */
export async function createSecret(
  client: Client,
  config: Pick<Config, 'policy' | 'temporal'>,
  input: unknown,
  vault?: ImportVault,
  connections?: ConnectionLookup,
  origin?: RequestOrigin,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof secretLifecycle>> {
  const request = validateCreateSecret(input, config.policy);
  if (connections) await checkTargetConnection(request.target, connections);
  const start = {
    tenantId: request.tenantId,
    name: request.name,
    type: request.type,
    policy: request.policy,
    requestedBy: request.requestedBy,
    ...(request.target ? { target: request.target } : {}),
    // From the caller, never from the body: a client cannot say where it came from.
    ...(origin ? { origin } : {}),
  };
  if (request.initialValue === undefined) {
    if (request.initialPrivateKey !== undefined) {
      throw new ValidationError([
        { field: 'initialPrivateKey', message: 'applies only with initialValue' },
      ]);
    }
    return startSecretLifecycle(client, config.temporal.taskQueue, start);
  }
  // An existing value is brought in: checked against its type's rules, staged in Vault here, and
  // handed to the workflow by version number only, never as workflow input.
  const checked = checkInitialValue(
    request.type,
    request.initialValue,
    request.initialPrivateKey,
    config.policy.maxValueBytes,
  );
  if (!vault) throw new ImportNotConfiguredError();
  return importSecret(client, config.temporal.taskQueue, vault, start, checked);
}
