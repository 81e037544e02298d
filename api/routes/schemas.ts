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
