import { X509Certificate, createPrivateKey } from 'node:crypto';
import { SecretType } from '../domain';
import { ValidationError } from './errors';

export interface SuppliedValue {
  value: string;
  /** PEM private key; tls_certificate only. */
  privateKey?: string;
}

/** What goes to Vault for a supplied value, and a certificate's expiry. */
export interface CheckedValue {
  data: Record<string, string>;
  expiresAt: string | null;
}

const fail = (field: string, message: string): never => {
  throw new ValidationError([{ field, message }]);
};

/**
 * Checks an owner-supplied value for its type before anything is written. Messages name the
 * field and the problem, never the value: it is a secret.
 */
export function checkSuppliedValue(
  type: SecretType,
  input: SuppliedValue,
  maxValueBytes: number,
  now = new Date(),
): CheckedValue {
  if (!input.value) fail('value', 'must not be empty');
  if (Buffer.byteLength(input.value, 'utf8') > maxValueBytes)
    fail('value', `must be at most ${maxValueBytes} bytes`);
  if (input.privateKey !== undefined && Buffer.byteLength(input.privateKey, 'utf8') > maxValueBytes)
    fail('privateKey', `must be at most ${maxValueBytes} bytes`);

  if (type === SecretType.TlsCertificate) {
    let cert: X509Certificate | undefined;
    try {
      cert = new X509Certificate(input.value);
    } catch {
      fail('value', 'must be a PEM certificate (chain) that parses');
    }
    if (!cert) return fail('value', 'must be a PEM certificate');
    if (input.privateKey === undefined) fail('privateKey', 'is required for a tls_certificate');
    let matches = false;
    try {
      matches = cert.checkPrivateKey(createPrivateKey(input.privateKey ?? ''));
    } catch {
      fail('privateKey', 'must be a PEM private key that parses');
    }
    if (!matches) fail('privateKey', 'does not match the certificate');
    const expires = new Date(cert.validTo);
    if (!(expires.getTime() > now.getTime())) fail('value', 'certificate has already expired');
    return {
      data: { value: input.value, private_key: input.privateKey ?? '' },
      expiresAt: expires.toISOString(),
    };
  }
  if (input.privateKey !== undefined) fail('privateKey', 'applies only to tls_certificate');
  return { data: { value: input.value }, expiresAt: null };
}
