import { z } from 'zod';
import { NAME_PATTERN } from '../../domain';

/** Tenant ids and secret names, as the naming rules allow (at most 63 characters). */
export const nameParam = z.string().max(63).regex(NAME_PATTERN);
export const secretParams = z.object({ tenantId: nameParam, name: nameParam });

/** Page size and offset for every listing; the cap keeps one request's cost bounded. */
export const MAX_PAGE_SIZE = 200;
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

/** A coded error body, as every 4xx carries. */
export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
});

export const iso = (d: Date | string | null): string | null =>
  d === null ? null : new Date(d).toISOString();

/** What each error status means here; every one carries errorBody. */
export const ERROR_STATUSES = {
  400: 'Invalid request: ROT_ERR_VALIDATION names each bad field (never its value)',
  401: 'No valid bearer token: ROT_ERR_UNAUTHENTICATED (missing or unknown), ROT_ERR_TOKEN_REVOKED or ROT_ERR_TOKEN_EXPIRED',
  403: 'The token’s role may not do this (ROT_ERR_FORBIDDEN)',
  404: 'No such resource, or another tenant’s (ROT_ERR_NOT_FOUND)',
  409: 'Refused in the current state, with a code saying why (e.g. ROT_ERR_NOT_RUNNING)',
  413: 'The body is over 64 KiB',
  414: 'A path parameter is over 100 characters (ROT_ERR_MAX_PARAM_LENGTH)',
  415: 'The body is not application/json',
  422: 'Understood but not done (ROT_ERR_UNSUPPORTED, ROT_ERR_IDEMPOTENCY_KEY_REUSED)',
  500: 'Internal error (ROT_ERR_INTERNAL, with no detail)',
  503: 'Something this needs is not configured (e.g. ROT_ERR_NOT_CONFIGURED), or a dependency (Vault, the engine database, Temporal) is not reachable: ROT_ERR_DEPENDENCY_UNAVAILABLE, with a Retry-After header; retry then',
} as const;
export type ErrorStatus = keyof typeof ERROR_STATUSES;

/** Response schemas for the given error statuses, to spread into a route's `response`. */
export function errorResponses(
  ...statuses: ErrorStatus[]
): Partial<Record<ErrorStatus, z.ZodType>> {
  return Object.fromEntries(
    statuses.map((status) => [status, errorBody.describe(ERROR_STATUSES[status])]),
  );
}

/** The answer of a request a lifecycle workflow takes over asynchronously. */
export const accepted = z.object({ accepted: z.literal(true) });

/**
 * `validated`, documented in the OpenAPI document as `documented`. For bodies whose full rules
 * live elsewhere (control/validate-secret.ts) so that each bad field is named by that code: the
 * route checks only the shape it needs, clients and fuzzers still see every field.
 */
export function documentedAs<T extends z.ZodType>(validated: T, documented: z.ZodType): T {
  const json: Record<string, unknown> = z.toJSONSchema(documented, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
  });
  delete json.$schema;
  return validated.meta(json);
}
