import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { policySchema, setPolicy } from '../../control';
import { Role } from '../../domain';
import type { Policy } from '../../domain';
import { requireRole } from '../auth/access';
import { findSecret } from '../find-secret';
import type { ApiServices } from '../services';
import { documentedAs, errorResponses, secretParams } from './schemas';

export function registerSecretPolicyRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db, temporal, config } = services;

  app.put(
    '/api/v1/secrets/:tenantId/:name/policy',
    {
      schema: {
        summary:
          'Replace the policy overrides (same fields as at create; a field left out reverts to the type’s default). The next rotation is rescheduled.',
        params: secretParams,
        // Documented in full; validated by setPolicy, which names policy.<field>.
        body: documentedAs(z.looseObject({}), policySchema(config.policy)),
        response: {
          202: z.object({
            accepted: z.literal(true),
            // The type's defaults with the overrides applied: an object, shown as one.
            policy: z
              .custom<Policy>((v) => typeof v === 'object' && v !== null)
              .meta({ type: 'object' }),
          }),
          ...errorResponses(409),
        },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, [Role.Admin, Role.Operator, Role.Tenant]);
      const { tenantId, name } = req.params;
      const row = await findSecret(db, principal, tenantId, name);
      const policy = await setPolicy(
        { client: temporal, limits: config.policy },
        { tenantId, name, type: row.type, state: row.state, workflowId: row.workflow_id },
        req.body,
        principal.subject,
        principal.origin,
      );
      return reply.code(202).send({ accepted: true, policy });
    },
  );
}
