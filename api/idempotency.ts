import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db';
import { Role } from '../domain';
import type { Principal } from './auth/tokens';
import { ApiError } from './errors';

/** How long a key is remembered: long enough for any client's retries, short enough to purge. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** The header's value: 1-255 visible ASCII characters (a UUID is the usual choice). */
export const idempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 visible ASCII characters')
    .optional(),
});

export interface IdempotentResult {
  statusCode: number;
  body: unknown;
}

/** Whose keys these are: a tenant's tokens share one space, every other token has its own. */
function scopeOf(principal: Principal): string {
  return principal.role === Role.Tenant && principal.tenantId
    ? `tenant:${principal.tenantId}`
    : `token:${principal.tokenId}`;
}

/** JSON with object keys sorted, so the same request always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Salted, so a stored hash cannot be matched against guesses of a value in the request. */
const fingerprint = (salt: string, req: FastifyRequest): string =>
  createHash('sha256')
    .update(salt)
    .update(canonical({ route: req.routeOptions.url, params: req.params, body: req.body }))
    .digest('hex');

/**
 * Runs `run` once per Idempotency-Key: a retry with the same key and the same request gets the
 * stored response again (with `idempotent-replayed: true`); the same key with a different request
 * is refused with 422; a retry while the first is still running gets 409. Without the header,
 * `run` simply runs. Only successes are stored: after a failure the key is free again.
 */
export async function idempotent(
  db: Kysely<Database>,
  principal: Principal,
  req: FastifyRequest,
  reply: FastifyReply,
  run: () => Promise<IdempotentResult>,
): Promise<FastifyReply> {
  const header = req.headers['idempotency-key'];
  const key = typeof header === 'string' ? header : undefined;
  if (key === undefined) {
    const result = await run();
    return reply.code(result.statusCode).send(result.body);
  }
  const scope = scopeOf(principal);
  const salt = randomBytes(16).toString('hex');
  // Expired keys are forgotten here, so the table never outgrows a day of traffic.
  await db.deleteFrom('idempotency_keys').where('expires_at', '<', new Date()).execute();
  const claimed = await db
    .insertInto('idempotency_keys')
    .values({
      scope,
      key,
      request_salt: salt,
      request_hash: fingerprint(salt, req),
      expires_at: new Date(Date.now() + IDEMPOTENCY_TTL_SECONDS * 1000),
    })
    .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();

  if (!claimed) {
    const seen = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('scope', '=', scope)
      .where('key', '=', key)
      .executeTakeFirst();
    // Gone between the insert and the select: the first request failed, so this one may retry.
    if (!seen) {
      throw new ApiError(409, 'ROT_ERR_IDEMPOTENCY_IN_PROGRESS', 'Retry this request');
    }
    if (seen.request_hash !== fingerprint(seen.request_salt, req)) {
      throw new ApiError(
        422,
        'ROT_ERR_IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was already used for a different request',
      );
    }
    if (seen.status_code === null) {
      throw new ApiError(
        409,
        'ROT_ERR_IDEMPOTENCY_IN_PROGRESS',
        'A request with this Idempotency-Key is still running; retry shortly',
      );
    }
    return reply.code(seen.status_code).header('idempotent-replayed', 'true').send(seen.response);
  }

  let result: IdempotentResult;
  try {
    result = await run();
  } catch (err) {
    await db
      .deleteFrom('idempotency_keys')
      .where('scope', '=', scope)
      .where('key', '=', key)
      .execute();
    throw err;
  }
  await db
    .updateTable('idempotency_keys')
    .set({ status_code: result.statusCode, response: JSON.stringify(result.body) })
    .where('scope', '=', scope)
    .where('key', '=', key)
    .execute();
  return reply.code(result.statusCode).send(result.body);
}
