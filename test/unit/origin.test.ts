import { describe, expect, it } from 'vitest';
import { AuthBurstDetector } from '../../api/auth-burst';
import { ConfigError, loadConfig } from '../../config';
import { cleanClientIp, cleanUserAgent } from '../../domain';

const valid = {
  DATABASE_URL: 'postgresql://rotor:pw@127.0.0.1:5432/rotor',
  VAULT_TOKEN: 's.abcdef',
};

describe('the caller’s origin as Rotor stores it', () => {
  it('strips control characters from a user agent, keeps the rest, and caps it at 256 characters', () => {
    expect(cleanUserAgent('curl/8.5.0')).toBe('curl/8.5.0');
    expect(cleanUserAgent('evil\u0000agent\r\nX-Injected: 1\u007f\u0085')).toBe(
      'evilagentX-Injected: 1',
    );
    expect(cleanUserAgent('ü-client ✓')).toBe('ü-client ✓');
    expect(cleanUserAgent('y'.repeat(1000))).toHaveLength(256);
    expect(cleanUserAgent(undefined)).toBeNull();
    expect(cleanUserAgent('  \t ')).toBeNull();
  });

  it('never keeps a Rotor token someone put in the user agent', () => {
    const token = `rtr_${'Zq9-_'.repeat(9)}`;
    const cleaned = cleanUserAgent(`my-app/1 ${token}`);
    expect(cleaned).toBe('my-app/1 rtr_[redacted]');
    expect(cleaned).not.toContain(token.slice(4));
  });

  it('keeps addresses that look like addresses and nothing else', () => {
    expect(cleanClientIp('203.0.113.9')).toBe('203.0.113.9');
    expect(cleanClientIp('::ffff:127.0.0.1')).toBe('::ffff:127.0.0.1');
    expect(cleanClientIp('fe80::1%eth0')).toBe('fe80::1%eth0');
    expect(cleanClientIp('1.2.3.4, 5.6.7.8')).toBeNull();
    expect(cleanClientIp(undefined)).toBeNull();
  });
});

describe('ROTOR_TRUSTED_PROXIES', () => {
  it('is empty by default: the socket’s address is the client IP', () => {
    expect(loadConfig(valid).api.trustedProxies).toEqual([]);
  });

  it('takes a comma list of IPs and CIDR blocks, v4 and v6', () => {
    expect(
      loadConfig({ ...valid, ROTOR_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.1,::1,fd00::/8' }).api
        .trustedProxies,
    ).toEqual(['10.0.0.0/8', '192.0.2.1', '::1', 'fd00::/8']);
  });

  it('names a bad entry by position without echoing it', () => {
    let error: unknown;
    try {
      loadConfig({ ...valid, ROTOR_TRUSTED_PROXIES: '10.0.0.1,proxy.internal-secretname' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('ROTOR_TRUSTED_PROXIES');
    expect(message).toContain('entry 2');
    expect(message).not.toContain('secretname');
  });
});

describe('the 401/403 burst detector', () => {
  /** A detector on a clock the test moves. */
  function detector(threshold: number, windowSeconds: number) {
    let now = 1_000_000;
    const d = new AuthBurstDetector({ threshold, windowSeconds }, () => now);
    return { d, advance: (seconds: number) => (now += seconds * 1000) };
  }

  it('reports a burst once when one token id reaches the threshold within the window', () => {
    const { d, advance } = detector(3, 60);
    expect(d.record({ tokenId: 't1' })).toEqual([]);
    advance(10);
    expect(d.record({ tokenId: 't1' })).toEqual([]);
    advance(10);
    expect(d.record({ tokenId: 't1' })).toEqual([
      { by: 'token', key: 't1', count: 3, windowSeconds: 60 },
    ]);
    advance(1);
    expect(d.record({ tokenId: 't1' })).toEqual([]);
  });

  it('slides: refusals spread wider than the window are no burst', () => {
    const { d, advance } = detector(3, 60);
    for (let i = 0; i < 10; i += 1) {
      expect(d.record({ tokenId: 't1', ip: '192.0.2.1' })).toEqual([]);
      advance(31);
    }
  });

  it('counts tokens and IPs apart, and reports a new episode once the window has emptied', () => {
    const { d, advance } = detector(2, 60);
    expect(d.record({ ip: '192.0.2.1' })).toEqual([]);
    expect(d.record({ tokenId: 'a', ip: '192.0.2.1' })).toEqual([
      { by: 'ip', key: '192.0.2.1', count: 2, windowSeconds: 60 },
    ]);
    expect(d.record({ tokenId: 'a' }).map((b) => b.by)).toEqual(['token']);
    advance(61);
    expect(d.record({ ip: '192.0.2.1' })).toEqual([]);
    expect(d.record({ ip: '192.0.2.1' }).map((b) => b.key)).toEqual(['192.0.2.1']);
  });
});
