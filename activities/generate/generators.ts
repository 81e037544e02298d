import { randomBytes, randomInt } from 'node:crypto';
import { SecretType } from '../../domain';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number, alphabet: string): string {
  let out = '';
  // randomInt is unbiased (rejection sampling), unlike bytes % alphabet.length.
  for (let i = 0; i < length; i += 1) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/**
 * How each generated type's value is made. Exhaustive over SecretType: a new type without an
 * entry is a compile error. `undefined` marks types whose value must be supplied by the owner.
 */
export const GENERATORS: Record<SecretType, (() => string) | undefined> = {
  [SecretType.ApiKey]: () => randomString(32, ALPHANUMERIC),
  // PostgreSQL passwords avoid quotes and backslashes that some clients mangle in URLs.
  [SecretType.DatabasePassword]: () => randomString(40, ALPHANUMERIC),
  [SecretType.ServiceToken]: () => randomBytes(32).toString('base64url'),
  [SecretType.EncryptionKey]: () => randomBytes(32).toString('base64'),
  [SecretType.JwtSecret]: () => randomBytes(64).toString('base64url'),
  [SecretType.WebhookSecret]: () => `whsec_${randomBytes(32).toString('base64url')}`,
  [SecretType.OauthClientSecret]: undefined,
  [SecretType.TlsCertificate]: undefined,
};

export function canGenerate(type: SecretType): boolean {
  return GENERATORS[type] !== undefined;
}

export function generateValue(type: SecretType): string {
  const generate = GENERATORS[type];
  if (!generate) throw new Error(`${type} values cannot be generated; the owner supplies them`);
  return generate();
}
