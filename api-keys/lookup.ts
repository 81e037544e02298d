import type { Kysely } from 'kysely';
import { TENANT_API_KEY_PREFIX } from '../domain';
import type { Database } from '../db/schema';
import { apiKeyHash } from './hash';

export interface VerifiedApiKey {
  keyId: string;
  tenantId: string;
  secretId: string;
  secretName: string;
  version: number;
  /** False for the previous key, still accepted during its grace period. */
  current: boolean;
}

/** Longest key accepted for lookup; anything longer is not one of ours. */
const MAX_KEY_LENGTH = 256;

/**
 * The keyed hash a presented key is stored under, or null when it cannot be one of Rotor's keys
 * (wrong prefix, too long): those are refused without a database read.
 */
export function presentedKeyHash(pepper: string, presented: string): string | null {
  if (!presented.startsWith(TENANT_API_KEY_PREFIX) || presented.length > MAX_KEY_LENGTH)
    return null;
  return apiKeyHash(pepper, presented);
}

/** The live key stored under `keyHash`: one lookup on the unique hash index. */
export async function lookupApiKeyByHash(
  db: Kysely<Database>,
  keyHash: string,
): Promise<VerifiedApiKey | null> {
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('secrets', 'secrets.id', 'api_keys.secret_id')
    .select([
      'api_keys.id as keyId',
      'api_keys.tenant_id as tenantId',
      'api_keys.secret_id as secretId',
      'secrets.name as secretName',
      'api_keys.vault_version as version',
      'secrets.current_version as currentVersion',
    ])
    .where('api_keys.key_hash', '=', keyHash)
    .where('api_keys.status', '=', 'active')
    .executeTakeFirst();
  if (!row) return null;
  const { currentVersion, ...key } = row;
  return { ...key, current: currentVersion === row.version };
}

/**
 * Finds the live key a caller presented: one lookup on the unique hash index, whatever the
 * number of keys stored. (The seed designs scan every key in Vault and compare each one.)
 */
export async function lookupApiKey(
  db: Kysely<Database>,
  pepper: string,
  presented: string,
): Promise<VerifiedApiKey | null> {
  const hash = presentedKeyHash(pepper, presented);
  return hash === null ? null : lookupApiKeyByHash(db, hash);
}
