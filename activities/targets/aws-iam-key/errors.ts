import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../domain';

/** An AWS SDK error's code (its `name`), the only part of it Rotor repeats. */
export function awsErrorCode(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : 'unknown error';
}

const NOT_FOUND = new Set(['NoSuchEntity', 'NoSuchEntityException']);
const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
]);

export function isNotFound(err: unknown): boolean {
  return NOT_FOUND.has(awsErrorCode(err));
}

/**
 * An IAM call's failure as a typed ApplicationFailure naming the action and the user, so a missing
 * privilege reads as exactly that (`iam:CreateAccessKey`). The AWS message is not passed on: Rotor
 * says what it knows, by code; nothing from a request or response body.
 */
export function awsFailure(err: unknown, action: string, user: string): ApplicationFailure {
  const code = awsErrorCode(err);
  if (NOT_FOUND.has(code)) {
    return ApplicationFailure.nonRetryable(
      `IAM user ${user} (or its key) does not exist (${action}: ${code})`,
      ErrorType.TargetNotFound,
    );
  }
  if (DENIED.has(code)) {
    return ApplicationFailure.nonRetryable(
      `Rotor's AWS principal may not call iam:${action} on IAM user ${user} (${code}); grant it in Rotor's IAM policy`,
      ErrorType.TargetRejected,
    );
  }
  return ApplicationFailure.retryable(
    `iam:${action} on IAM user ${user} failed (${code})`,
    ErrorType.TargetRejected,
  );
}
