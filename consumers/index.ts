export {
  createRotorReader,
  isAuthenticationFailure,
  type Credential,
  type FreshCredentialOptions,
  type RotorReader,
  type RotorReaderOptions,
} from './reader';
export {
  PermissionDeniedError,
  RotorReadError,
  RotorReadErrorCode,
  SecretNotFoundError,
  VaultUnavailableError,
} from './errors';
export {
  WebhookRefusal,
  WebhookVerificationError,
  createWebhookVerifier,
  memoryReplayStore,
  type ReplayStore,
  type RotorWebhookEvent,
  type WebhookVerifierOptions,
} from './webhooks';
