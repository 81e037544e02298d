import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, IAM_USER_NAME_PATTERN, TargetKind } from '../../../domain';
import type { AwsIamAccessKeyTarget as DomainTarget } from '../../../domain';

export { IAM_USER_NAME_PATTERN } from '../../../domain';
export { awsIamAccessKeyTargetSchema } from '../../../domain/target-schemas';

/** The target kind (domain's TargetKind.AwsIamAccessKey). */
export const AWS_IAM_ACCESS_KEY_KIND = TargetKind.AwsIamAccessKey;

/**
 * What the driver needs of an aws_iam_access_key target (domain/targets.ts). The connection is
 * resolved before the driver runs, so the driver itself can be built and tested without one.
 */
export type AwsIamAccessKeyTarget = Omit<DomainTarget, 'connection'> & { connection?: string };

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
