/** Every kind of secret Rotor manages. Adding one here forces a policy and a generator below. */
export const SecretType = {
  ApiKey: 'api_key',
  DatabasePassword: 'database_password',
  ServiceToken: 'service_token',
  EncryptionKey: 'encryption_key',
  JwtSecret: 'jwt_secret',
  WebhookSecret: 'webhook_secret',
  OauthClientSecret: 'oauth_client_secret',
  TlsCertificate: 'tls_certificate',
} as const;
export type SecretType = (typeof SecretType)[keyof typeof SecretType];

export const SECRET_TYPES: readonly SecretType[] = Object.values(SecretType);

export function isSecretType(value: string): value is SecretType {
  return (SECRET_TYPES as readonly string[]).includes(value);
}
