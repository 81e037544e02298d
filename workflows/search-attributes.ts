import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Keys for the attributes registered on the namespace (domain/search-attributes.ts).
export const TenantIdKey = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const SecretTypeKey = defineSearchAttributeKey('SecretType', SearchAttributeType.KEYWORD);
export const SecretNameKey = defineSearchAttributeKey('SecretName', SearchAttributeType.KEYWORD);
export const RotationStateKey = defineSearchAttributeKey(
  'RotationState',
  SearchAttributeType.KEYWORD,
);
export const NextRotationAtKey = defineSearchAttributeKey(
  'NextRotationAt',
  SearchAttributeType.DATETIME,
);
