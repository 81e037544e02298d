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
const count = z.number().int().min(0);

/** GET /rotations/bulk/{batchId}: counted from the rotation rows each time it is read. */
const bulkProgress = z.object({
  batchId: z.uuid(),
  tenantId: z.string().nullable().describe('The tenant the batch was limited to (null: all)'),
  total: count.describe('Secrets the batch covers'),
  requested: count.describe('Secrets asked to rotate so far'),
  unreachable: count.describe('Secrets whose lifecycle could not be asked (retired or gone)'),
  completed: count,
  failed: count.describe('Failed, compensated, rejected or approval expired'),
  awaitingApproval: count,
  awaitingValue: count.describe("Supplied types waiting for their owner's value"),
  done: z.boolean().describe('Every rotation asked for is final or waits for a human'),
  finished: z.boolean().describe('Every rotation asked for has completed or failed'),
});

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
    {
      schema: {
        summary: 'Progress of a bulk rotation, counted from its rotations as they stand',
        params: z.object({ batchId: z.uuid() }),
        response: { 200: bulkProgress },
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin, Role.Operator, Role.Security, Role.Tenant]);
      // Counted from the database; only a batch begun before its row existed (0020) is asked
      // of its workflow, bounded: one that does not answer reads as 404, never held open.
      const progress = await readBulkProgress({ client: temporal, db }, req.params.batchId);
      if (principal.role === Role.Tenant && progress.tenantId !== principal.tenantId) {
        throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such batch');
      }
      return progress;
    },
  );
}
