import { createHmac } from 'node:crypto';

/**
 * The keyed hash an API key is stored and looked up by. Keys are 190 bits of randomness, so a
 * fast keyed hash is enough (no bcrypt/argon2 needed: there is nothing to guess), and the
 * server-side pepper means a stolen table cannot even confirm a guessed key.
 */
export function apiKeyHash(pepper: string, key: string): string {
  return createHmac('sha256', pepper).update(key).digest('hex');
}
