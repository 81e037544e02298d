import { hash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { Role } from '../../domain';
import type { RequestOrigin } from '../../domain';
import type { CredentialCache } from '../credential-cache';

/** Every Rotor API token starts with this, so secret scanners and people can recognise one. */
export const TOKEN_PREFIX = 'rtr_';

export interface Principal {
  tokenId: string;
  /**
   * Who: the token's unique subject (`<name>#<8 hex>`), recorded as requester, approver and audit
   * actor, and compared for separation of duties. Never the display name, which may repeat.
   */
  subject: string;
  /** The token's name as its creator gave it: a label for people, not an identity. */
  displayName: string;
  role: Role;
  /** Set for tenant tokens: they only ever see this tenant. */
  tenantId: string | null;
  /** Where this request came from (set by the API per request), for the audit rows it causes. */
  origin?: RequestOrigin;
}

/** Tokens are 256 random bits, so a plain SHA-256 is enough at rest (no slow hash needed). */
export function hashToken(token: string): string {
  // One-shot (no Hash object): it runs on every request, cache hit or not.
  return hash('sha256', token, 'hex');
}

/**
 * A subject no token has yet: the name, `#`, and 8 random hex digits. Names may repeat, subjects
 * may not (a unique index backs this check against a concurrent insert).
 */
async function newSubject(db: Kysely<Database>, name: string): Promise<string> {
  for (;;) {
    const subject = `${name}#${randomBytes(4).toString('hex')}`;
    const taken = await db
      .selectFrom('api_tokens')
      .select('id')
      .where('subject', '=', subject)
      .executeTakeFirst();
    if (!taken) return subject;
  }
}

export async function createToken(
  db: Kysely<Database>,
  input: {
    name: string;
    role: Role;
    tenantId?: string | null;
    /** When it stops working; null or absent: never (the bootstrap token, test tokens). */
    expiresAt?: Date | null;
  },
): Promise<{ id: string; token: string; subject: string }> {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const subject = await newSubject(db, input.name);
  const { id } = await db
    .insertInto('api_tokens')
    .values({
      name: input.name,
      subject,
      prefix: token.slice(0, 12),
      token_hash: hashToken(token),
      role: input.role,
      tenant_id: input.tenantId ?? null,
      expires_at: input.expiresAt ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id, token, subject };
}

/** Why a presented token is refused, each with its own 401 code. */
export const TokenRefusal = {
  /** No Authorization header, not a Rotor token, or no token with this hash. */
  Unauthenticated: 'ROT_ERR_UNAUTHENTICATED',
  Revoked: 'ROT_ERR_TOKEN_REVOKED',
  Expired: 'ROT_ERR_TOKEN_EXPIRED',
} as const;
export type TokenRefusal = (typeof TokenRefusal)[keyof typeof TokenRefusal];

/**
 * `last_used_at` is written at most this often per token, so a busy token costs one extra
 * UPDATE a minute, not one per request (plus up to the credential cache's TTL: a cached token
 * is not written until its entry is read again).
 */
export const LAST_USED_RESOLUTION_SECONDS = 60;

/**
 * Who an Authorization header is, or why it is refused. Read from the database, or from the
 * credential cache when one is given and serving: only working tokens are cached (by the hash
 * the database stores), each entry is dropped by the token's change notification, lives at most
 * the cache's TTL, and never past the token's `expires_at` by the database's clock. So a token
 * revoked or changed anywhere is refused from the first request after its notification arrives
 * (from the next request when this process revoked it), and an expired one from its expiry on.
 * Unknown, revoked and expired tokens are read every time. See api/credential-cache.ts.
 */
export async function identify(
  db: Kysely<Database>,
  header: string | undefined,
  cache?: CredentialCache,
): Promise<{ principal: Principal } | { refused: TokenRefusal; tokenId?: string }> {
  const unauthenticated = { refused: TokenRefusal.Unauthenticated };
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  const token = match?.[1];
  if (!token?.startsWith(TOKEN_PREFIX)) return unauthenticated;
  const tokenHash = hashToken(token);
  const cacheKey = `token:${tokenHash}`;
  const cached = cache?.get<Principal>(cacheKey);
  if (cached) return { principal: cached };
  const ticket = cache?.ticket();
  const row = await db
    .selectFrom('api_tokens')
    .select([
      'id',
      'name',
      'subject',
      'role',
      'tenant_id',
      'revoked_at',
      'expires_at',
      'last_used_at',
      sql<Date>`now()`.as('now'),
    ])
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) return unauthenticated;
  // The id (never the token) lets repeated use of a dead token be told apart from noise.
  if (row.revoked_at !== null) return { refused: TokenRefusal.Revoked, tokenId: row.id };
  // The database's clock decides, as it does for every time Rotor stores.
  if (row.expires_at !== null && row.expires_at <= row.now) {
    return { refused: TokenRefusal.Expired, tokenId: row.id };
  }
  const stale =
    row.last_used_at === null ||
    row.now.getTime() - row.last_used_at.getTime() >= LAST_USED_RESOLUTION_SECONDS * 1000;
  if (stale) {
    await db
      .updateTable('api_tokens')
      .set({ last_used_at: sql<Date>`now()` })
      .where('id', '=', row.id)
      .execute();
  }
  const principal: Principal = {
    tokenId: row.id,
    subject: row.subject,
    displayName: row.name,
    role: row.role,
    tenantId: row.tenant_id,
  };
  // The time left by the database's clock, counted by the cache from before this read was sent:
  // the entry ends no later than the token does.
  cache?.put(ticket, cacheKey, principal, {
    tags: [`token:${row.id}`],
    ...(row.expires_at === null
      ? {}
      : { validForMs: row.expires_at.getTime() - row.now.getTime() }),
  });
  return { principal };
}

/** The principal behind an Authorization header; null if missing, unknown, revoked or expired. */
export async function authenticate(
  db: Kysely<Database>,
  header: string | undefined,
): Promise<Principal | null> {
  const who = await identify(db, header);
  return 'principal' in who ? who.principal : null;
}

/**
 * On first start, creates an admin token and returns it (to print once); afterwards returns null.
 * An advisory lock keeps two API processes starting together from both creating one.
 */
export async function ensureBootstrapAdmin(db: Kysely<Database>): Promise<string | null> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('rotor-bootstrap-admin'))`.execute(trx);
    const existing = await trx
      .selectFrom('api_tokens')
      .select('id')
      .where('role', '=', Role.Admin)
      .executeTakeFirst();
    if (existing) return null;
    return (await createToken(trx, { name: 'bootstrap-admin', role: Role.Admin })).token;
  });
}
