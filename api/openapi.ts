import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import { errorResponses } from './routes/schemas';
import type { ErrorStatus } from './routes/schemas';

/**
 * The error answers any /api/v1 operation can give: a bad request (schema or control
 * characters), no token, the wrong role, a missing or another tenant's resource, an internal
 * error, and a dependency that is down (503 ROT_ERR_DEPENDENCY_UNAVAILABLE: every operation at
 * least reads the engine database, for the caller's token). Operations with path parameters can also hit the router's length limit
 * (414); those with a body, the size limit (413) and the content-type check (415).
 */
function standardErrors(route: RouteOptions): ErrorStatus[] {
  const statuses: ErrorStatus[] = [400, 401, 403, 404, 500, 503];
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

/** The groups /docs shows operations in, in this order, each with what it holds. */
export const TAGS = [
  {
    name: 'secrets',
    description: 'Managed secrets: create, list, status, policy, rotate and control',
  },
  { name: 'values', description: 'Audited value reads and owner-supplied values' },
  { name: 'approvals', description: 'Rotations waiting for security, and decisions' },
  { name: 'rotations', description: 'Past, running, due and bulk rotations' },
  { name: 'audit', description: 'The tamper-evident audit trail' },
  { name: 'reports', description: 'Security reports' },
  { name: 'tenants', description: 'Tenants, their notification settings and failed deliveries' },
  {
    name: 'webhooks',
    description: "A tenant's signed webhook endpoints: create, list, delete, rotate secret, test",
  },
  { name: 'tokens', description: 'API tokens: create, list, revoke, rotate (admin)' },
  { name: 'api-keys', description: 'Tenant API keys issued by Rotor' },
  {
    name: 'connections',
    description: 'Target systems Rotor rotates on, and how it reaches them (admin)',
  },
  { name: 'reference', description: 'Secret types and counts' },
] as const;
export type Tag = (typeof TAGS)[number]['name'];

/**
 * The tag of an /api/v1 route, from its URL alone, so route files need not name one. The most
 * specific rule wins: a secret's approve and audit routes belong with approvals and audit.
 */
export function tagFor(url: string): Tag {
  const path = url.replace(/^\/api\/v1/, '');
  const secretAction = /^\/secrets\/:tenantId\/:name\/([a-z-]+)$/.exec(path)?.[1];
  if (secretAction === 'approve' || secretAction === 'reject') return 'approvals';
  if (secretAction === 'audit') return 'audit';
  if (secretAction === 'value' || secretAction === 'supply') return 'values';
  if (/^\/tenants\/:tenantId\/audit$/.test(path)) return 'audit';
  if (/^\/tenants\/:tenantId\/webhooks(\/|$)/.test(path)) return 'webhooks';
  const first = /^\/([a-z-]+)/.exec(path)?.[1] ?? '';
  const byPrefix: Record<string, Tag> = {
    secrets: 'secrets',
    approvals: 'approvals',
    rotations: 'rotations',
    audit: 'audit',
    reports: 'reports',
    tenants: 'tenants',
    notifications: 'tenants',
    tokens: 'tokens',
    'api-keys': 'api-keys',
    connections: 'connections',
    types: 'reference',
    stats: 'reference',
  };
  return byPrefix[first] ?? 'reference';
}

/**
 * Adds the standard error responses (each with the shared error body) to every /api/v1 route,
 * so the OpenAPI document lists what every operation can answer, and fastify serializes those
 * answers through the same schema. A route's own entries (its success, 409, 422, 503…) stay.
 * Each route also gets its tag (tagFor), unless it names its own.
 * Register before the routes.
 */
export function registerErrorResponses(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/v1/') || route.schema?.hide) return;
    const schema = (route.schema ??= {});
    // Grouped here, by URL, rather than in every route file (issue 15: /docs had one "default").
    schema.tags ??= [tagFor(route.url)];
    const response = (schema.response ?? {}) as Record<string, z.ZodType>;
    const success = Object.keys(response).some((status) => status.startsWith('2'));
    schema.response = {
      ...(success ? {} : { 200: anyObject }),
      ...errorResponses(...standardErrors(route)),
      ...response,
    };
  });
}
