import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { appendAudit } from '../../audit';
import {
  MAX_WEBHOOK_ENDPOINTS_PER_TENANT,
  MAX_WEBHOOK_URL_LENGTH,
  Role,
  WEBHOOK_EVENTS,
  WEBHOOK_TEST_EVENT,
  webhookSecretPath,
  webhookUrlProblem,
} from '../../domain';
import {
  createAddressGuard,
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  findWebhookEndpoint,
  listWebhookEndpoints,
  recordWebhookAttempt,
  rotateWebhookSecret,
  sendWebhook,
  signingSecrets,
  webhookHostProblem,
} from '../../webhooks';
import type { AddressGuard, WebhookEndpoint } from '../../webhooks';
import { assertTenant, requireRole } from '../auth/access';
import type { Principal } from '../auth/tokens';
import { ApiError } from '../errors';
import type { ApiServices } from '../services';
import { errorResponses, iso, nameParam } from './schemas';

const tenantParams = z.object({ tenantId: nameParam });
const endpointParams = z.object({ tenantId: nameParam, id: z.uuid('must be an endpoint id') });

/**
 * An endpoint URL: well formed (webhookUrlProblem), and not pointing at an internal address by
 * what it says itself (an IP literal, `localhost`) unless the guard allows it. Hostnames are not
 * resolved here: each delivery checks every address it resolves to when it connects.
 */
const urlField = (guard: AddressGuard) =>
  z
    .string()
    .max(MAX_WEBHOOK_URL_LENGTH, `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`)
    .superRefine((url, ctx) => {
      // Over the limit is already said, once, by max().
      if (url.length > MAX_WEBHOOK_URL_LENGTH) return;
      const problem = webhookUrlProblem(url) ?? webhookHostProblem(url, guard);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

const createBody = (guard: AddressGuard) =>
  z.strictObject({
    url: urlField(guard),
    /** Which events it receives; every webhook event when omitted. */
    events: z
      .array(z.enum(WEBHOOK_EVENTS))
      .min(1, 'must name at least one event')
      .max(WEBHOOK_EVENTS.length)
      .optional(),
    enabled: z.boolean().default(true),
  });

const endpointView = z.object({
  id: z.string(),
  tenantId: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  createdAt: z.string().nullable(),
  secretRotatedAt: z.string().nullable(),
  /** Where the signing secret lives in Vault (the secret itself is shown once, on creation). */
  secretPath: z.string(),
});

const view = (e: WebhookEndpoint) => ({
  id: e.id,
  tenantId: e.tenantId,
  url: e.url,
  events: e.events,
  enabled: e.enabled,
  createdAt: iso(e.createdAt),
  secretRotatedAt: iso(e.secretRotatedAt),
  secretPath: webhookSecretPath(e.tenantId, e.id),
});

/** The host only: a URL's path or query may hold a token of the receiver's, so audit keeps none. */
const hostOf = (url: string): string => new URL(url).host;

/**
 * Webhook endpoints: where a tenant's machines receive signed events (rotation.completed,
 * rotation.failed, rotation.upcoming, credential.revoked, value.needed). Admin, or the tenant's
 * own token; another tenant's endpoints answer 404.
 */
export function registerWebhookRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db } = services;
  // One guard for registration and the test route, as the worker builds one for deliveries.
  const guard = createAddressGuard(services.config.notifications.webhookAllowedNetworks);
  const vault = () => {
    if (!services.vault) {
      throw new ApiError(503, 'ROT_ERR_NOT_CONFIGURED', 'Webhooks need Vault to be configured');
    }
    return services.vault;
  };
  const endpointOf = async (tenantId: string, id: string): Promise<WebhookEndpoint> => {
    const found = await findWebhookEndpoint(db, tenantId, id);
    if (!found) throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such webhook endpoint');
    return found;
  };
  const audit = (
    tenantId: string,
    principal: Principal,
    action: string,
    details: Record<string, string | number | boolean | null>,
  ) =>
    appendAudit(db, {
      tenantId,
      actor: principal.subject,
      action,
      outcome: 'success',
      details,
      idempotencyKey: `webhook:${randomUUID()}`,
      origin: principal.origin,
    });

  app.post(
    '/api/v1/tenants/:tenantId/webhooks',
    {
      schema: {
        summary:
          'Create a webhook endpoint (admin or the tenant). The answer carries its signing secret (whsec_…) once; Rotor keeps it in Vault only and never shows it again.',
        params: tenantParams,
        body: createBody(guard),
        response: {
          201: endpointView.extend({ signingSecret: z.string() }),
          ...errorResponses(409, 503),
        },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, [Role.Admin, Role.Tenant]);
      const { tenantId } = req.params;
      assertTenant(principal, tenantId);
      const tenant = await db
        .selectFrom('tenants')
        .select('id')
        .where('id', '=', tenantId)
        .executeTakeFirst();
      if (!tenant) throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such tenant');
      const kv = vault();
      if ((await listWebhookEndpoints(db, tenantId)).length >= MAX_WEBHOOK_ENDPOINTS_PER_TENANT) {
        throw new ApiError(
          409,
          'ROT_ERR_WEBHOOK_LIMIT',
          `A tenant may have at most ${MAX_WEBHOOK_ENDPOINTS_PER_TENANT} webhook endpoints; delete one first`,
        );
      }
      const { endpoint, secret } = await createWebhookEndpoint(db, kv, {
        tenantId,
        url: req.body.url,
        events: req.body.events ?? [...WEBHOOK_EVENTS],
        enabled: req.body.enabled,
        by: principal.subject,
      });
      await audit(tenantId, principal, 'webhook.created', {
        endpointId: endpoint.id,
        host: hostOf(endpoint.url),
        events: endpoint.events.join(','),
      });
      return reply.code(201).send({ ...view(endpoint), signingSecret: secret });
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/webhooks',
    {
      schema: {
        summary: "List a tenant's webhook endpoints (admin or the tenant); never their secrets",
        params: tenantParams,
        response: { 200: z.object({ endpoints: z.array(endpointView) }) },
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin, Role.Tenant]);
      assertTenant(principal, req.params.tenantId);
      return { endpoints: (await listWebhookEndpoints(db, req.params.tenantId)).map(view) };
    },
  );

  app.delete(
    '/api/v1/tenants/:tenantId/webhooks/:id',
    {
      schema: {
        summary: 'Delete a webhook endpoint and its signing secret in Vault (admin or the tenant)',
        params: endpointParams,
        response: {
          200: z.object({ id: z.string(), deleted: z.literal(true) }).describe('Deleted'),
          ...errorResponses(503),
        },
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin, Role.Tenant]);
      const { tenantId, id } = req.params;
      assertTenant(principal, tenantId);
      const endpoint = await endpointOf(tenantId, id);
      if (!(await deleteWebhookEndpoint(db, vault(), tenantId, id))) {
        throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such webhook endpoint');
      }
      await audit(tenantId, principal, 'webhook.deleted', {
        endpointId: id,
        host: hostOf(endpoint.url),
      });
      return { id, deleted: true as const };
    },
  );

  app.post(
    '/api/v1/tenants/:tenantId/webhooks/:id/rotate-secret',
    {
      schema: {
        summary:
          'Give a webhook endpoint a new signing secret, shown once (admin or the tenant). The previous one keeps signing beside it for 24 hours, so receivers can switch.',
        params: endpointParams,
        response: {
          200: z.object({
            id: z.string(),
            signingSecret: z.string(),
            previousValidUntil: z.string().nullable(),
          }),
          ...errorResponses(503),
        },
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin, Role.Tenant]);
      const { tenantId, id } = req.params;
      assertTenant(principal, tenantId);
      const endpoint = await endpointOf(tenantId, id);
      const { secret, previousValidUntil } = await rotateWebhookSecret(db, vault(), endpoint);
      await audit(tenantId, principal, 'webhook.secret_rotated', { endpointId: id });
      return { id, signingSecret: secret, previousValidUntil: iso(previousValidUntil) };
    },
  );

  app.post(
    '/api/v1/tenants/:tenantId/webhooks/:id/test',
    {
      schema: {
        summary:
          'Send a signed webhook.test event to an endpoint now, once, and say what it answered (admin or the tenant). Recorded in notification deliveries.',
        params: endpointParams,
        response: {
          200: z.object({
            delivered: z.boolean(),
            webhookId: z.string(),
            httpStatus: z.number().nullable(),
            error: z.string().optional(),
          }),
          ...errorResponses(503),
        },
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin, Role.Tenant]);
      const { tenantId, id } = req.params;
      assertTenant(principal, tenantId);
      const endpoint = await endpointOf(tenantId, id);
      const secrets = await signingSecrets(vault(), tenantId, id);
      if (secrets.length === 0) {
        throw new ApiError(
          409,
          'ROT_ERR_WEBHOOK_NO_SECRET',
          'This endpoint has no signing secret in Vault; rotate its secret first',
        );
      }
      const webhookId = `msg_test_${randomUUID().replace(/-/g, '')}`;
      const body = JSON.stringify({
        type: WEBHOOK_TEST_EVENT,
        timestamp: new Date().toISOString(),
        data: { tenantId, endpointId: id },
      });
      const result = await sendWebhook(
        { url: endpoint.url, id: webhookId, body, secrets },
        { guard },
      );
      await recordWebhookAttempt(
        db,
        {
          tenantId,
          endpointId: id,
          messageId: webhookId,
          event: { kind: WEBHOOK_TEST_EVENT, workflowId: null, rotationId: null },
        },
        {
          status: result.ok ? 'sent' : 'failed',
          attempt: 1,
          httpStatus: result.httpStatus,
          ...(result.ok ? {} : { error: result.error }),
        },
      );
      await audit(tenantId, principal, 'webhook.tested', {
        endpointId: id,
        delivered: result.ok,
        httpStatus: result.httpStatus,
      });
      return {
        delivered: result.ok,
        webhookId,
        httpStatus: result.httpStatus,
        ...(result.ok ? {} : { error: result.error }),
      };
    },
  );
}
