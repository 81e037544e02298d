import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readBulkProgress, startBulkRotation } from '../../control';
import { NAME_PATTERN, Role } from '../../domain';
import { requireRole } from '../auth/access';
import { tenantScope } from '../auth/scope';
import { ApiError } from '../errors';
import type { ApiServices } from '../services';

const name = z.string().regex(NAME_PATTERN).max(63);

export function registerBulkRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db, temporal, config } = services;

  app.post(
    '/api/v1/rotations/bulk',
    {
      schema: {
        summary:
          'Rotate every matching secret now (e.g. all of a tenant after a breach); returns a batch id',
        body: z.strictObject({
          tenantId: name.optional(),
          type: z.string().max(40).optional(),
          reason: z.string().trim().min(1).max(300),
        }),
        response: { 202: z.object({ batchId: z.uuid(), total: z.number().int() }) },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, [Role.Admin, Role.Operator, Role.Tenant]);
      // Naming another tenant is refused, never quietly narrowed to one's own; a tenant token
      // without a tenant is refused rather than read as "every tenant".
      const tenantId = tenantScope(principal, req.body.tenantId);
      const batch = await startBulkRotation(
        { client: temporal, db, taskQueue: config.temporal.taskQueue },
        {
          tenantId,
          type: req.body.type,
          requestedBy: principal.subject,
          reason: req.body.reason,
          ...(principal.origin ? { origin: principal.origin } : {}),
        },
      );
      return reply.code(202).send(batch);
    },
  );

  app.get(
    '/api/v1/rotations/bulk/:batchId',
    { schema: { summary: 'Progress of a bulk rotation', params: z.object({ batchId: z.uuid() }) } },
    async (req) => {
      const principal = requireRole(req, [Role.Admin, Role.Operator, Role.Security, Role.Tenant]);
      // Bounded: a batch whose worker is gone answers 404 rather than holding the request open.
      const progress = await readBulkProgress(temporal, req.params.batchId);
      if (principal.role === Role.Tenant && progress.tenantId !== principal.tenantId) {
        throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such batch');
      }
      return progress;
    },
  );
}
