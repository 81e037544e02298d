import { BlockList, isIP } from 'node:net';

/** The error code of an attempt refused because its destination is internal. */
export const BLOCKED_ADDRESS = 'BLOCKED_ADDRESS';

/** The setting that lets deliveries reach internal networks; named in refusals, never a value. */
export const WEBHOOK_ALLOWED_NETWORKS_SETTING = 'ROTOR_WEBHOOK_ALLOWED_NETWORKS';

/**
 * Networks a webhook delivery may not reach unless an operator allows them: what a tenant could
 * otherwise use to make Rotor POST into its own host or network (SSRF). IPv4 rules also cover
 * their IPv4-mapped (`::ffff:a.b.c.d`) and NAT64 (`64:ff9b::/96`) forms: see embeddedIpv4.
 */
const BLOCKED: readonly (readonly [network: string, prefix: number, family: 'ipv4' | 'ipv6'])[] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network", unspecified
  ['10.0.0.0', 8, 'ipv4'], // private
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['127.0.0.0', 8, 'ipv4'], // loopback
  ['169.254.0.0', 16, 'ipv4'], // link-local: cloud metadata (169.254.169.254) lives here
  ['172.16.0.0', 12, 'ipv4'], // private
  ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
  ['192.168.0.0', 16, 'ipv4'], // private
  ['198.18.0.0', 15, 'ipv4'], // benchmarking, often used inside networks
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved
  ['255.255.255.255', 32, 'ipv4'], // broadcast
  ['::', 128, 'ipv6'], // unspecified
  ['::1', 128, 'ipv6'], // loopback
  ['::', 96, 'ipv6'], // IPv4-compatible (deprecated): nothing public lives here
  ['64:ff9b:1::', 48, 'ipv6'], // local-use NAT64 (RFC 8215)
  ['fc00::', 7, 'ipv6'], // unique local (private)
  ['fe80::', 10, 'ipv6'], // link-local
  ['fec0::', 10, 'ipv6'], // site-local (deprecated)
  ['ff00::', 8, 'ipv6'], // multicast
];

/** Decides whether a webhook delivery may connect to an IP address. */
export interface AddressGuard {
  /** True for a public address, or an internal one inside an allowed network; false otherwise. */
  allows(address: string): boolean;
}

/**
 * A guard over the built-in blocked networks, letting through `allowedNetworks` (CIDR blocks or
 * single addresses, IPv4 or IPv6: ROTOR_WEBHOOK_ALLOWED_NETWORKS, already validated by config).
 *
 * @example
 * const guard = createAddressGuard(['10.20.0.0/16']);
 * guard.allows('10.20.1.5'); // true
 * guard.allows('169.254.169.254'); // false
 */
export function createAddressGuard(allowedNetworks: readonly string[] = []): AddressGuard {
  const blocked = new BlockList();
  for (const [network, prefix, family] of BLOCKED) blocked.addSubnet(network, prefix, family);
  const allowed = new BlockList();
  for (const entry of allowedNetworks) addNetwork(allowed, entry);
  const matches = (list: BlockList, address: string, family: 4 | 6): boolean => {
    if (list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return true;
    const v4 = family === 6 ? embeddedIpv4(address) : null;
    return v4 !== null && list.check(v4, 'ipv4');
  };
  return {
    allows(candidate) {
      // A zone (fe80::1%eth0) says which interface, not which address: judge the address.
      const address = candidate.replace(/%.*$/, '');
      const family = isIP(address);
      if (family !== 4 && family !== 6) return false;
      if (matches(allowed, address, family)) return true;
      return !matches(blocked, address, family);
    },
  };
}

/** Adds `a.b.c.d/n`, `x::/n` or a single address to a list; a bad entry throws. */
function addNetwork(list: BlockList, entry: string): void {
  const [network = '', prefix] = entry.trim().split('/');
  const family = isIP(network);
  if (family !== 4 && family !== 6) {
    throw new Error(`${WEBHOOK_ALLOWED_NETWORKS_SETTING} holds an entry that is not a network`);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefix === undefined) list.addAddress(network, type);
  else list.addSubnet(network, Number(prefix), type);
}

/**
 * The IPv4 address an IPv6 one stands for, when it embeds one a connection would reach: mapped
 * (`::ffff:a.b.c.d`, which a dual-stack socket connects to over IPv4) and NAT64's well-known
 * prefix (`64:ff9b::a.b.c.d`, which a NAT64 gateway forwards to the IPv4 address). Null otherwise.
 */
export function embeddedIpv4(address: string): string | null {
  const groups = ipv6Groups(address);
  if (!groups) return null;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  const mapped = zeros(0, 5) && groups[5] === 0xffff;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6);
  if (!mapped && !nat64) return null;
  const high = groups[6] ?? 0;
  const low = groups[7] ?? 0;
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a trailing dotted quad too). */
function ipv6Groups(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase().replace(/%.*$/, '');
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length);
  return [...headGroups, ...fill.fill('0'), ...tailGroups].map((g) => parseInt(g, 16));
}

/**
 * Hostnames that name this host whatever DNS says (RFC 6761 reserves `localhost` and every name
 * under it, and resolvers answer them with loopback without asking anyone).
 */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** A URL's host as an IP address when it is one (`[::1]` unbracketed), or null for a name. */
export function ipLiteralOf(hostname: string): string | null {
  const bare =
    hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? null : bare;
}

/**
 * Why a webhook URL's host may not be registered, or null. Only what the URL itself says is
 * judged: an IP literal in a blocked network, or a `localhost` name. Hostnames are not resolved
 * here: an answer now says nothing about the answer at delivery time (DNS rebinding), so the real
 * guard is the delivery's own check of every address it resolves (send.ts). The reason names the
 * setting, never the URL.
 */
export function webhookHostProblem(raw: string, guard: AddressGuard): string | null {
  let hostname: string;
  try {
    hostname = new URL(raw).hostname;
  } catch {
    return null; // Not a URL: webhookUrlProblem says so.
  }
  const literal = ipLiteralOf(hostname);
  if (literal !== null) {
    return guard.allows(literal)
      ? null
      : `must not point at an internal address (loopback, private, link-local…) unless ${WEBHOOK_ALLOWED_NETWORKS_SETTING} allows it`;
  }
  // A localhost name may resolve to either loopback address: both must be allowed.
  if (isLocalhostName(hostname) && !(guard.allows('127.0.0.1') && guard.allows('::1'))) {
    return `must not name localhost (an internal address) unless ${WEBHOOK_ALLOWED_NETWORKS_SETTING} allows both 127.0.0.1 and ::1`;
  }
  return null;
}
