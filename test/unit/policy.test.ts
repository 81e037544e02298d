import { describe, expect, it } from 'vitest';
import { canGenerate, generateValue } from '../../activities';
import {
  DEFAULT_POLICIES,
  SECRET_TYPES,
  SecretType,
  allowsValueRead,
  isValidName,
  policyFor,
} from '../../domain';

describe('default policies', () => {
  it('are, per type, the interval, generation, approval and grace (in days) written here and in ARCHITECTURE.md', () => {
    const day = 86_400;
    const table = Object.fromEntries(
      SECRET_TYPES.map((t) => {
        const p = DEFAULT_POLICIES[t];
        const every = p.schedule.kind === 'interval' ? p.schedule.everySeconds / day : NaN;
        return [t, [every, p.autoGenerate, p.requiresApproval, p.graceSeconds / day]];
      }),
    );
    expect(table).toEqual({
      api_key: [90, true, false, 7],
      database_password: [60, true, true, 1],
      service_token: [30, true, false, 1],
      encryption_key: [365, true, true, 30],
      jwt_secret: [180, true, false, 1],
      webhook_secret: [45, true, false, 1],
      oauth_client_secret: [365, false, true, 7],
      tls_certificate: [365, false, false, 7],
    });
  });

  it('never allow reading a value over the API by default', () => {
    for (const type of SECRET_TYPES) expect(allowsValueRead(DEFAULT_POLICIES[type])).toBe(false);
    expect(allowsValueRead({})).toBe(false);
    expect(allowsValueRead({ allowValueRead: true })).toBe(true);
  });

  it('lets a secret override one field and keep the rest', () => {
    expect(policyFor(SecretType.ApiKey, { graceSeconds: 5 })).toEqual({
      ...DEFAULT_POLICIES.api_key,
      graceSeconds: 5,
    });
  });
});

describe('generators', () => {
  it('make every auto-generated type, and refuse the supplied ones', () => {
    for (const type of SECRET_TYPES) {
      if (DEFAULT_POLICIES[type].autoGenerate)
        expect(generateValue(type).length).toBeGreaterThanOrEqual(32);
      else expect(() => generateValue(type)).toThrow(/supplies/);
      expect(canGenerate(type)).toBe(DEFAULT_POLICIES[type].autoGenerate);
    }
  });

  it('make a 32-byte base64 encryption key and a 32-character API key', () => {
    expect(Buffer.from(generateValue(SecretType.EncryptionKey), 'base64')).toHaveLength(32);
    expect(generateValue(SecretType.ApiKey)).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('never repeat a value', () => {
    const values = new Set(
      Array.from({ length: 1000 }, () => generateValue(SecretType.ServiceToken)),
    );
    expect(values.size).toBe(1000);
  });
});

describe('names', () => {
  it('accept lowercase slugs and refuse traversal, slashes and capitals', () => {
    expect(isValidName('billing-api.key_2')).toBe(true);
    for (const bad of ['../etc', 'a/b', 'Upper', '', '.hidden', 'a..b', 'x'.repeat(64)]) {
      expect(isValidName(bad), bad).toBe(false);
    }
  });
});
