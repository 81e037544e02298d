import { createHash } from 'node:crypto';

/**
 * The hash MariaDB and MySQL store for mysql_native_password: `*` and the upper-case hex of
 * SHA1(SHA1(password)). Sent as `IDENTIFIED BY PASSWORD '<hash>'`, the plaintext never reaches
 * the server, its general log or its slow log; the login handshake proves the password without
 * sending it either.
 */
export function nativePasswordHash(password: string): string {
  const inner = createHash('sha1').update(password, 'utf8').digest();
  return `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
}
