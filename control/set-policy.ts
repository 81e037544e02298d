import type { Client } from '@temporalio/client';
import { SecretState, isSecretType } from '../domain';
import type { Policy, RequestOrigin } from '../domain';
import { updatePolicySignal } from '../workflows';
import { SecretNotFoundError, SecretRetiredError } from './errors';
import { toLifecycle } from './lifecycle';
import { validateCreateSecret } from './validate-secret';
import type { CreateSecretLimits } from './validate-secret';

export interface SetPolicyDeps {
  client: Client;
  limits: CreateSecretLimits;
}

/** The secret as its row records it. */
export interface PolicySecret {
  tenantId: string;
  name: string;
  type: string;
  state: string;
  workflowId: string;
}

/**
 * Replaces a secret's policy overrides: the create-time rules apply unchanged (minimum interval,
 * cron, windows, approval…), each bad field named as policy.<field>, and the lifecycle is told,
 * which reschedules its next rotation. Returns the type's defaults with the overrides applied.
 */
export async function setPolicy(
  deps: SetPolicyDeps,
  secret: PolicySecret,
  overrides: unknown,
  requestedBy: string,
  origin?: RequestOrigin,
): Promise<Policy> {
  const { tenantId, name, type } = secret;
  if (!isSecretType(type)) throw new SecretNotFoundError();
  if (secret.state === SecretState.Retired) throw new SecretRetiredError();
  const { policy } = validateCreateSecret(
    { tenantId, name, type, requestedBy, policy: overrides },
    deps.limits,
  );
  await toLifecycle(() =>
    deps.client.workflow
      .getHandle(secret.workflowId)
      .signal(updatePolicySignal, { policy, requestedBy, ...(origin ? { origin } : {}) }),
  );
  return policy;
}
