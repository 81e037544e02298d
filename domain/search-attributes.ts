/**
 * Rotor's custom search attributes, as registered on the Temporal namespace. Ops query them in the
 * Web UI, e.g. `RotationState="AWAITING_APPROVAL"`. Values are ids and states, never secrets.
 */
export const SEARCH_ATTRIBUTES = {
  TenantId: 'Keyword',
  SecretType: 'Keyword',
  SecretName: 'Keyword',
  RotationState: 'Keyword',
  NextRotationAt: 'Datetime',
} as const;
export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;
