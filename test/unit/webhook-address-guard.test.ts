import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config';
import { createAddressGuard, embeddedIpv4, webhookHostProblem } from '../../webhooks';

const valid = {
  DATABASE_URL: 'postgresql://rotor:pw@127.0.0.1:5432/rotor',
  VAULT_TOKEN: 's.abcdef',
};

describe('the webhook address guard', () => {
  const guard = createAddressGuard();

  it.each([
    ['loopback', '127.0.0.1'],
    ['loopback, anywhere in 127/8', '127.255.0.9'],
    ['IPv6 loopback', '::1'],
    ['private 10/8', '10.1.2.3'],
    ['private 172.16/12', '172.31.255.254'],
    ['private 192.168/16', '192.168.0.1'],
    ['IPv6 unique local fc00::/7', 'fd12:3456::1'],
    ['link-local, cloud metadata', '169.254.169.254'],
    ['IPv6 link-local', 'fe80::1'],
    ['IPv6 link-local with a zone', 'fe80::1%eth0'],
    ['unspecified / this network', '0.0.0.0'],
    ['this network, 0/8', '0.1.2.3'],
    ['IPv6 unspecified', '::'],
    ['carrier-grade NAT 100.64/10', '100.100.100.200'],
    ['multicast 224/4', '239.255.255.250'],
    ['IPv6 multicast', 'ff02::1'],
    ['reserved 240/4', '240.0.0.1'],
    ['broadcast', '255.255.255.255'],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
    ['IPv4-mapped loopback in hex', '::ffff:7f00:1'],
    ['IPv4-mapped metadata', '::ffff:169.254.169.254'],
    ['NAT64 of a private address', '64:ff9b::10.0.0.1'],
    ['NAT64 of loopback in hex', '64:ff9b::7f00:1'],
  ])('refuses %s (%s)', (_what, address) => {
    expect(guard.allows(address)).toBe(false);
  });

  it.each([
    ['a public IPv4 address', '93.184.216.34'],
    ['a public IPv4 address next to the private 172.16/12', '172.32.0.1'],
    ['a public IPv6 address', '2606:4700:4700::1111'],
    ['a public IPv4 address, IPv4-mapped', '::ffff:8.8.8.8'],
    ['a public IPv4 address through NAT64', '64:ff9b::808:808'],
  ])('lets through %s (%s)', (_what, address) => {
    expect(guard.allows(address)).toBe(true);
  });

  it('refuses what is not an IP address at all', () => {
    expect(guard.allows('localhost')).toBe(false);
    expect(guard.allows('')).toBe(false);
  });

  it('lets an allowed network through, and nothing beside it', () => {
    const allowing = createAddressGuard(['10.20.0.0/16', '127.0.0.1/32', 'fd00:1::/32', '::1']);
    expect(allowing.allows('10.20.7.8')).toBe(true);
    expect(allowing.allows('10.21.0.1')).toBe(false);
    expect(allowing.allows('127.0.0.1')).toBe(true);
    expect(allowing.allows('::ffff:127.0.0.1')).toBe(true);
    expect(allowing.allows('127.0.0.2')).toBe(false);
    expect(allowing.allows('fd00:1:ffff::1')).toBe(true);
    expect(allowing.allows('fd00:2::1')).toBe(false);
    expect(allowing.allows('::1')).toBe(true);
    expect(allowing.allows('169.254.169.254')).toBe(false);
  });

  it('reads the IPv4 address inside mapped and NAT64 forms, and none inside others', () => {
    expect(embeddedIpv4('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(embeddedIpv4('::FFFF:a01:203')).toBe('10.1.2.3');
    expect(embeddedIpv4('64:ff9b::c0a8:101')).toBe('192.168.1.1');
    expect(embeddedIpv4('2001:db8::ffff:a01:203')).toBeNull();
    expect(embeddedIpv4('::1')).toBeNull();
    expect(embeddedIpv4('10.1.2.3')).toBeNull();
  });
});

describe('registering a webhook URL', () => {
  const publicOnly = createAddressGuard();
  const loopbackAllowed = createAddressGuard(['127.0.0.1/32', '::1/128']);

  it('refuses an internal IP literal or a localhost name, naming the setting and never the URL', () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://[::1]/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.5/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://2130706433/hook', // 127.0.0.1 written as one number
      'http://0x7f.1/hook',
      'http://localhost:9000/hook',
      'http://hooks.localhost/hook',
      'http://LOCALHOST./hook',
    ]) {
      const problem = webhookHostProblem(url, publicOnly);
      expect(problem, url).toContain('ROTOR_WEBHOOK_ALLOWED_NETWORKS');
      expect(problem, url).not.toContain('/hook');
    }
  });

  it('accepts a hostname without resolving it, and an internal address the setting allows', () => {
    // .invalid never resolves: accepted all the same, since the delivery checks what it resolves to.
    expect(webhookHostProblem('https://hooks.acme.invalid/rotor', publicOnly)).toBeNull();
    expect(webhookHostProblem('https://93.184.216.34/rotor', publicOnly)).toBeNull();
    expect(webhookHostProblem('http://127.0.0.1:8080/hook', loopbackAllowed)).toBeNull();
    expect(webhookHostProblem('http://localhost:8080/hook', loopbackAllowed)).toBeNull();
  });

  it('refuses localhost while only one of the loopback addresses it may resolve to is allowed', () => {
    const v4Only = createAddressGuard(['127.0.0.1/32']);
    expect(webhookHostProblem('http://127.0.0.1:8080/hook', v4Only)).toBeNull();
    expect(webhookHostProblem('http://localhost:8080/hook', v4Only)).toContain('::1');
  });
});

describe('ROTOR_WEBHOOK_ALLOWED_NETWORKS', () => {
  it('is empty by default: deliveries reach public addresses only', () => {
    expect(loadConfig(valid).notifications.webhookAllowedNetworks).toEqual([]);
  });

  it('reads a comma list of IPv4 and IPv6 CIDR blocks and addresses', () => {
    const config = loadConfig({
      ...valid,
      ROTOR_WEBHOOK_ALLOWED_NETWORKS: '10.20.0.0/16, 127.0.0.1/32,fd00::/8,::1',
    });
    expect(config.notifications.webhookAllowedNetworks).toEqual([
      '10.20.0.0/16',
      '127.0.0.1/32',
      'fd00::/8',
      '::1',
    ]);
  });

  it('fails start-up on an entry that is not a network, naming the variable and the entry’s place', () => {
    let message = '';
    try {
      loadConfig({ ...valid, ROTOR_WEBHOOK_ALLOWED_NETWORKS: '10.0.0.0/8,10.0.0.0/33' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain('ROTOR_WEBHOOK_ALLOWED_NETWORKS');
    expect(message).toContain('entry 2');
    expect(() =>
      loadConfig({ ...valid, ROTOR_WEBHOOK_ALLOWED_NETWORKS: 'internal.example' }),
    ).toThrow(/ROTOR_WEBHOOK_ALLOWED_NETWORKS/);
  });
});
