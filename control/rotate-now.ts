import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError, isGrpcDeadlineError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { ErrorType } from '../domain';
import { requestRotationUpdate } from '../workflows';
import { toLifecycle } from './lifecycle';
import type { RotateAnswer, RotateRefusal, RotateRequest } from '../workflows';

/** The API code for each reason the workflow refuses a rotate-now request. */
const REFUSAL_CODES: Record<RotateRefusal, string> = {
  NEEDS_ATTENTION: 'ROT_ERR_NEEDS_ATTENTION',
  PAUSED: 'ROT_ERR_PAUSED',
  RETIRING: 'ROT_ERR_RETIRING',
  INVALID_REQUEST: 'ROT_ERR_VALIDATION',
};

/** How long the workflow has to answer before the caller is told it is not reachable. */
const ANSWER_DEADLINE_MS = 15_000;

/**
 * The lifecycle did not answer in time (no worker is running it, or it is far behind). The
 * request was not refused: the workflow may still take it once a worker runs it.
 */
export class LifecycleUnavailableError extends Error {
  readonly statusCode = 503;
  readonly code = 'ROT_ERR_LIFECYCLE_UNAVAILABLE';
  constructor() {
    super(
      `the secret's lifecycle did not answer within ${ANSWER_DEADLINE_MS / 1000} s (is a worker running?); the request may still be taken when it does`,
    );
    this.name = 'LifecycleUnavailableError';
  }
}

/** A rotate-now request the workflow refused, with why (a 409 for the API, exit 1 for the CLI). */
export class RotateRefusedError extends Error {
  readonly statusCode = 409;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RotateRefusedError';
  }
}

/**
 * Asks a secret's lifecycle to rotate now, as an Update, so the caller learns what happens: the
 * rotation id it runs (or will run) under, or why not. Nothing is accepted and then dropped. A
 * lifecycle that has ended is a LifecycleNotRunningError.
 */
export async function requestRotation(
  client: Client,
  workflowId: string,
  request: RotateRequest,
): Promise<RotateAnswer> {
  try {
    return await toLifecycle(() =>
      client.withDeadline(Date.now() + ANSWER_DEADLINE_MS, () =>
        client.workflow
          .getHandle(workflowId)
          .executeUpdate(requestRotationUpdate, { args: [request] }),
      ),
    );
  } catch (err) {
    if (isGrpcDeadlineError(err) || isGrpcDeadlineError((err as { cause?: unknown }).cause))
      throw new LifecycleUnavailableError();
    const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
    if (!(cause instanceof ApplicationFailure) || cause.type !== ErrorType.RotateRefused) throw err;
    const refusal = cause.details?.[0] as RotateRefusal | undefined;
    throw new RotateRefusedError(
      (refusal && REFUSAL_CODES[refusal]) ?? 'ROT_ERR_ROTATE_REFUSED',
      cause.message,
    );
  }
}
