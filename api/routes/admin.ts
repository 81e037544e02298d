import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NAME_PATTERN, Role } from '../../domain';
import { assertTenant, requireRole } from '../auth/access';
import { tenantScope } from '../auth/scope';
import type { ApiServices } from '../services';

const name = z.string().regex(NAME_PATTERN).max(63);

export function registerAdminRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db } = services;

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
