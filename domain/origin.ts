/**
 * Where an API request came from, recorded on every audit row the request causes (in the API, or
 * later by its lifecycle's activities) and covered by the row's hash. Neither part is secret, so
 * it may travel in workflow arguments; neither is ever a value.
 */
export interface RequestOrigin {
  /** The client's address: the socket peer, or X-Forwarded-For when the peer is a trusted proxy. */
  ip: string | null;
  /** The User-Agent header as cleanUserAgent left it; null when absent or empty. */
  userAgent: string | null;
}

/** Longest user agent kept: enough for any real client, short enough to bound every audit row. */
export const MAX_USER_AGENT_LENGTH = 256;

/** Longest client IP kept (an IPv6 address with a zone is under 64). */
export const MAX_CLIENT_IP_LENGTH = 64;

// A Rotor API token pasted where a user agent goes (a misconfigured client) is not recorded.
const TOKEN_SHAPED = /rtr_[A-Za-z0-9_-]{8,}/g;

/**
 * A User-Agent header as Rotor stores it: control characters removed, any Rotor-token-shaped run
 * replaced by `rtr_[redacted]`, trimmed, and cut to MAX_USER_AGENT_LENGTH characters. Null when
 * nothing is left. The header is stripped rather than refused: it is what the client says it is,
 * recorded for people, never trusted for anything.
 */
export function cleanUserAgent(header: string | string[] | undefined): string | null {
  const raw = Array.isArray(header) ? header.join(' ') : (header ?? '');
  let out = '';
  for (const ch of raw) {
    const c = ch.charCodeAt(0);
    if (c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c < 0xa0)) out += ch;
  }
  out = out.replace(TOKEN_SHAPED, 'rtr_[redacted]').trim();
  return out === '' ? null : [...out].slice(0, MAX_USER_AGENT_LENGTH).join('');
}

/** A client IP as Rotor stores it: control characters cannot occur in one, so only capped. */
export function cleanClientIp(ip: string | undefined): string | null {
  if (!ip) return null;
  return /^[0-9A-Za-z:.%_-]+$/.test(ip) ? ip.slice(0, MAX_CLIENT_IP_LENGTH) : null;
}
