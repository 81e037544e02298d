import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { buildSecurityReport } from '../../reports';
import { NAME_PATTERN, Role } from '../../domain';
import { assertTenant, requireRole } from '../auth/access';
import { ApiError } from '../errors';
import type { ApiServices } from '../services';

const name = z.string().regex(NAME_PATTERN).max(63);

export function registerReportRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/api/v1/reports/security',
    {
      schema: {
        summary:
          'Security report: overdue, failing and soon-due secrets, approval statistics, who did what, audit integrity',
        querystring: z.strictObject({
          tenantId: name.optional(),
          windowDays: z.coerce.number().min(0.01).max(366).default(7),
          dueWithinDays: z.coerce.number().min(0).max(366).default(7),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin, Role.Security, Role.Tenant]);
      // Naming another tenant is refused, never quietly narrowed to one's own.
      if (req.query.tenantId) assertTenant(principal, req.query.tenantId);
      const tenantId = principal.role === Role.Tenant ? principal.tenantId : req.query.tenantId;
      if (principal.role === Role.Tenant && !tenantId)
        throw new ApiError(403, 'ROT_ERR_FORBIDDEN', 'Token has no tenant');
      return buildSecurityReport(services.db, {
        tenantId: tenantId ?? null,
        windowSeconds: Math.round(req.query.windowDays * 86_400),
        dueWithinSeconds: Math.round(req.query.dueWithinDays * 86_400),
        listLimit: req.query.limit,
      });
    },
  );
}
