export { apiKeyHash } from './hash';
export { lookupApiKey, lookupApiKeyByHash, presentedKeyHash } from './lookup';
export type { VerifiedApiKey } from './lookup';
