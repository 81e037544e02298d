export { createAwsIamKeyDriver } from './driver';
export type { AwsIamKeyDeps } from './driver';
export { issuedVaultFields } from './issued';
export type { IssuedCredential, IssuingTargetDriver } from './issued';
export {
  AWS_IAM_ACCESS_KEY_KIND,
  IAM_USER_NAME_PATTERN,
  awsIamAccessKeyTargetSchema,
  iamUserName,
} from './spec';
export type { AwsIamAccessKeyTarget } from './spec';
export { PRIOR_IDS_FIELD, applyIssued, recordPriorIds, writeIssued } from './apply-issued';
export type { IssuedApplyInput } from './apply-issued';
