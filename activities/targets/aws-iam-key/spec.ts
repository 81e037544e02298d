import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { ErrorType } from '../../../domain';

/** The target kind; joins domain's TargetKind when the driver is wired into the registry. */
export const AWS_IAM_ACCESS_KEY_KIND = 'aws_iam_access_key';

/**
 * An IAM user whose access keys Rotor rotates, two-key style: a new key is issued beside the one
 * consumers hold, and the old one is deactivated and deleted when grace ends. The user's keys are
 * Rotor's to manage; `connection` names the AWS account/endpoint Rotor reaches it through.
 */
export interface AwsIamAccessKeyTarget {
  kind: typeof AWS_IAM_ACCESS_KEY_KIND;
  connection?: string;
  userName: string;
}

/** IAM's own rule for user names (CreateUser's UserName): 1-64 of letters, digits and `_+=,.@-`. */
export const IAM_USER_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;

export const awsIamAccessKeyTargetSchema = z
  .object({
    kind: z.literal(AWS_IAM_ACCESS_KEY_KIND),
    connection: z.string().min(1).max(128).optional(),
    userName: z
      .string()
      .regex(IAM_USER_NAME_PATTERN, 'must be an IAM user name: 1-64 of letters, digits, _+=,.@-'),
  })
  .strict();

/**
 * The spec's user name, checked before any request is sent: a name IAM would refuse never reaches
 * it. The message names the field, never the value (which may be hostile or just long).
 */
export function iamUserName(spec: AwsIamAccessKeyTarget): string {
  if (typeof spec.userName !== 'string' || !IAM_USER_NAME_PATTERN.test(spec.userName)) {
    throw ApplicationFailure.nonRetryable(
      'target.userName is not an IAM user name (1-64 of letters, digits, _+=,.@-)',
      ErrorType.ValidationFailed,
    );
  }
  return spec.userName;
}
