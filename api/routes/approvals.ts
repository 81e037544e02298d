import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { approveRotation, findPendingApprovals, rejectRotation } from '../../control';
import { NAME_PATTERN, Role } from '../../domain';
import { requireRole } from '../auth/access';
import { tenantScope } from '../auth/scope';
import { findSecret } from '../find-secret';
import { MAX_PAGE_SIZE, errorResponses } from './schemas';
import type { ApiServices } from '../services';

const name = z.string().regex(NAME_PATTERN).max(63);
const secretParams = z.object({ tenantId: name, name });
const rotationId = z.string().min(1).max(100);

export function registerApprovalRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const deps = { client: services.temporal, db: services.db };

  app.get(
    '/api/v1/approvals',
    {
      schema: {
        summary:
          'Rotations waiting for security, with their context; `unreachable` lists workflows whose status could not be read',
        querystring: z.strictObject({
          tenantId: name.optional(),
          limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
        }),
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin, Role.Security, Role.Operator, Role.Tenant]);
      // Naming another tenant is refused, never quietly narrowed to one's own.
      const tenantId = tenantScope(principal, req.query.tenantId);
      return findPendingApprovals(services.temporal, {
        ...(tenantId ? { tenantId } : {}),
        limit: req.query.limit,
      });
    },
  );

  // Roles come from the caller's token, never from the request body.
  app.post(
    '/api/v1/secrets/:tenantId/:name/approve',
    {
      schema: {
        summary: 'Approve the pending rotation (security); 409 with the reason when refused',
        params: secretParams,
        body: z.strictObject({ rotationId, comment: z.string().max(500).optional() }),
        response: errorResponses(409),
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Security]);
      // A decision about a secret that does not exist is the caller's 404, not Temporal's error.
      const row = await findSecret(services.db, principal, req.params.tenantId, req.params.name);
      return approveRotation(deps, row.workflow_id, {
        approver: principal.subject,
        roles: [principal.role],
        rotationId: req.body.rotationId,
        ...(req.body.comment ? { comment: req.body.comment } : {}),
        ...(principal.origin ? { origin: principal.origin } : {}),
      });
    },
  );

  app.post(
    '/api/v1/secrets/:tenantId/:name/reject',
    {
      schema: {
        summary: 'Reject the pending rotation (security), with a reason',
        params: secretParams,
        body: z.strictObject({ rotationId, reason: z.string().trim().min(1).max(500) }),
        response: errorResponses(409),
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Security]);
      const row = await findSecret(services.db, principal, req.params.tenantId, req.params.name);
      return rejectRotation(deps, row.workflow_id, {
        approver: principal.subject,
        roles: [principal.role],
        rotationId: req.body.rotationId,
        reason: req.body.reason,
        ...(principal.origin ? { origin: principal.origin } : {}),
      });
    },
  );
}
