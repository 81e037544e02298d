import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NAME_PATTERN, Role } from '../../domain';
import { assertTenant, requireRole } from '../auth/access';
import { tenantScope } from '../auth/scope';
import { createToken } from '../auth/tokens';
import type { ApiServices } from '../services';

const name = z.string().regex(NAME_PATTERN).max(63);

export function registerAdminRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db } = services;

  app.post(
    '/api/v1/tokens',
    {
      schema: {
        summary: 'Create an API token (admin). The token is shown once, only in this response.',
        body: z
          .strictObject({
            name: z.string().trim().min(1).max(100),
            role: z.enum([Role.Admin, Role.Security, Role.Operator, Role.Tenant]),
            tenantId: name.optional(),
          })
          .refine((b) => (b.role === Role.Tenant) === (b.tenantId !== undefined), {
            path: ['tenantId'],
            message: 'is required for tenant tokens and only for them',
          }),
        response: {
          201: z.looseObject({
            id: z.string(),
            token: z.string(),
            subject: z.string(),
            role: z.string(),
            tenantId: z.string().nullable(),
          }),
        },
      },
    },
    async (req, reply) => {
      requireRole(req, [Role.Admin]);
      if (req.body.tenantId) {
        await db
          .insertInto('tenants')
          .values({ id: req.body.tenantId, name: req.body.tenantId })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
      }
      // Names may repeat; the subject is the unique identity the token acts as.
      const { id, token, subject } = await createToken(db, req.body);
      return reply
        .code(201)
        .send({ id, token, subject, role: req.body.role, tenantId: req.body.tenantId ?? null });
    },
  );

  app.put(
    '/api/v1/tenants/:tenantId/notification-settings',
    {
      schema: {
        summary: 'Where a tenant hears about its secrets',
        params: z.object({ tenantId: name }),
        body: z.strictObject({
          emails: z.array(z.email().max(254)).max(20).default([]),
          slackChannel: z
            .string()
            .regex(/^[#@]?[a-z0-9._-]{1,80}$/i)
            .optional(),
        }),
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin, Role.Tenant]);
      assertTenant(principal, req.params.tenantId);
      const settings = JSON.stringify(req.body);
      await db
        .insertInto('tenants')
        .values({
          id: req.params.tenantId,
          name: req.params.tenantId,
          notification_settings: settings,
        })
        .onConflict((oc) => oc.column('id').doUpdateSet({ notification_settings: settings }))
        .execute();
      return { tenantId: req.params.tenantId, ...req.body };
    },
  );

  app.get(
    '/api/v1/notifications/failures',
    {
      schema: {
        summary: 'Notifications that could not be delivered after every retry',
        querystring: z.strictObject({
          tenantId: name.optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin, Role.Operator, Role.Security, Role.Tenant]);
      // Naming another tenant is refused, never quietly narrowed to one's own.
      const tenantId = tenantScope(principal, req.query.tenantId);
      let query = db
        .selectFrom('notification_deliveries')
        .select(['tenant_id', 'audience', 'channel', 'event_count', 'error', 'created_at'])
        .where('status', '=', 'failed')
        .orderBy('created_at', 'desc')
        .limit(req.query.limit);
      if (tenantId) query = query.where('tenant_id', '=', tenantId);
      return { items: await query.execute() };
    },
  );
}
