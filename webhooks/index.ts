export {
  BLOCKED_ADDRESS,
  WEBHOOK_ALLOWED_NETWORKS_SETTING,
  createAddressGuard,
  embeddedIpv4,
  webhookHostProblem,
} from './address-guard';
export type { AddressGuard } from './address-guard';
export { recordWebhookAttempt, webhookDelivered } from './deliveries';
export type { WebhookDeliveryRef } from './deliveries';
export { webhookPayload } from './payload';
export type { WebhookPayload } from './payload';
export { WEBHOOK_TIMEOUT_MS, sendWebhook } from './send';
export type { ResolveHost, SendWebhookOptions, WebhookAttempt, WebhookMessage } from './send';
export { generateWebhookSecret, signWebhook } from './signing';
export {
  PREVIOUS_SECRET_GRACE_SECONDS,
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  findWebhookEndpoint,
  listWebhookEndpoints,
  rotateWebhookSecret,
  signingSecrets,
} from './store';
export type { WebhookEndpoint } from './store';
