export { apiKeyHash } from './hash';
export { lookupApiKey } from './lookup';
export type { VerifiedApiKey } from './lookup';
