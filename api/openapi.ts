import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import { errorResponses } from './routes/schemas';
import type { ErrorStatus } from './routes/schemas';

/**
 * The error answers any /api/v1 operation can give: a bad request (schema or control
 * characters), no token, the wrong role, a missing or another tenant's resource, and an
 * internal error. Operations with path parameters can also hit the router's length limit
 * (414); those with a body, the size limit (413) and the content-type check (415).
 */
function standardErrors(route: RouteOptions): ErrorStatus[] {
  const statuses: ErrorStatus[] = [400, 401, 403, 404, 500];
  if (route.url.includes('/:')) statuses.push(414);
  const methods = [route.method].flat();
  if (methods.some((m) => m === 'POST' || m === 'PUT')) statuses.push(413, 415);
  return statuses;
}

/**
 * For a route that declares no success answer: 200 with a JSON object. Every /api/v1 route that
 * answers otherwise (201, 202) declares it; this keeps the document listing a success for the
 * rest without a schema each route would have to keep in step with the code it calls.
 */
const anyObject = z.looseObject({}).describe('Success');

/**
 * Adds the standard error responses (each with the shared error body) to every /api/v1 route,
 * so the OpenAPI document lists what every operation can answer, and fastify serializes those
 * answers through the same schema. A route's own entries (its success, 409, 422, 503…) stay.
 * Register before the routes.
 */
export function registerErrorResponses(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/v1/') || route.schema?.hide) return;
    const schema = (route.schema ??= {});
    const response = (schema.response ?? {}) as Record<string, z.ZodType>;
    const success = Object.keys(response).some((status) => status.startsWith('2'));
    schema.response = {
      ...(success ? {} : { 200: anyObject }),
      ...errorResponses(...standardErrors(route)),
      ...response,
    };
  });
}
