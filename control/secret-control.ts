import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { appendAudit } from '../audit';
import type { Database } from '../db';
import { SecretState } from '../domain';
import type { RequestOrigin } from '../domain';
import { pauseSignal, resumeSignal } from '../workflows';
import { LifecycleNotRunningError } from './errors';
import { readLiveStatus, toLifecycle } from './lifecycle';

/** The operator's way back: stop a lifecycle, start it again, retry after a failure. */
export const SecretAction = { Pause: 'pause', Resume: 'resume', Retry: 'retry' } as const;
export type SecretAction = (typeof SecretAction)[keyof typeof SecretAction];

/** What the lifecycle accepts in a reason; a longer one would be ignored by the workflow. */
export const MAX_CONTROL_REASON = 500;
const RETRY_PREFIX = 'retry: ';

/** An action that makes no sense in the secret's state, with its code; HTTP 409. */
export class SecretControlRefusedError extends Error {
  readonly statusCode = 409;
  constructor(
    readonly code: 'ROT_ERR_NOT_NEEDS_ATTENTION' | 'ROT_ERR_NOT_PAUSED',
    message: string,
  ) {
    super(message);
    this.name = 'SecretControlRefusedError';
  }
}

export interface SecretControlDeps {
  client: Client;
  db: Kysely<Database>;
}

/** The secret as its row records it. */
export interface ControlledSecret {
  id: string;
  tenantId: string;
  name: string;
  state: string;
  workflowId: string;
}

/** Who asks, as their token says, why, and from where (the API request's origin). */
export interface ControlRequest {
  subject: string;
  role: string;
  reason: string;
  origin?: RequestOrigin | undefined;
}

/** Why an action makes no sense in `state`, or null when it does. */
function refusal(
  action: SecretAction,
  state: string,
  paused: boolean,
): SecretControlRefusedError | null {
  if (action === SecretAction.Retry && state !== SecretState.NeedsAttention) {
    return new SecretControlRefusedError(
      'ROT_ERR_NOT_NEEDS_ATTENTION',
      `Retry is for a secret in ${SecretState.NeedsAttention}; this one is ${state}`,
    );
  }
  if (
    action === SecretAction.Resume &&
    !paused &&
    state !== SecretState.Paused &&
    state !== SecretState.NeedsAttention
  ) {
    return new SecretControlRefusedError(
      'ROT_ERR_NOT_PAUSED',
      `Resume is for a paused secret or one in ${SecretState.NeedsAttention}; this one is ${state}`,
    );
  }
  return null;
}

/**
 * Pauses, resumes or retries a secret's lifecycle. Every request is audited with the caller's
 * subject, taken or refused: a lifecycle that has ended is a LifecycleNotRunningError, an action
 * that makes no sense in the secret's state a SecretControlRefusedError. Returns the state the
 * secret was in when the request was taken (the change shows in its status shortly).
 */
export async function controlSecret(
  deps: SecretControlDeps,
  secret: ControlledSecret,
  action: SecretAction,
  request: ControlRequest,
): Promise<{ state: string }> {
  const { reason } = request;
  const handle = deps.client.workflow.getHandle(secret.workflowId);
  const audit = (outcome: 'success' | 'refused', state: string, why?: string) =>
    appendAudit(deps.db, {
      tenantId: secret.tenantId,
      secretId: secret.id,
      actor: request.subject,
      action: `secret.${action}_requested`,
      outcome,
      details: {
        secret: secret.name,
        reason,
        role: request.role,
        state,
        ...(why ? { why } : {}),
      },
      idempotencyKey: `secret.${action}_requested:${randomUUID()}`,
      origin: request.origin,
    });

  const description = await toLifecycle(() => handle.describe());
  if (description.status.name !== 'RUNNING') {
    await audit('refused', secret.state, 'not running');
    throw new LifecycleNotRunningError();
  }
  // The live state when the workflow answers in time; the row (its projection) otherwise.
  const status = await readLiveStatus(deps.client, secret.workflowId);
  const state = status?.state ?? secret.state;
  const refused = refusal(action, state, status?.paused ?? state === SecretState.Paused);
  if (refused) {
    await audit('refused', state, refused.code);
    throw refused;
  }

  const requester = {
    requestedBy: request.subject,
    reason,
    ...(request.origin ? { origin: request.origin } : {}),
  };
  await toLifecycle(() => {
    if (action === SecretAction.Pause) return handle.signal(pauseSignal, requester);
    if (action === SecretAction.Resume) return handle.signal(resumeSignal, requester);
    // The workflow retries on resume; the prefix keeps the retry visible in its records.
    const retryReason = `${RETRY_PREFIX}${reason}`.slice(0, MAX_CONTROL_REASON);
    return handle.signal(resumeSignal, { ...requester, reason: retryReason });
  });
  await audit('success', state);
  return { state };
}
