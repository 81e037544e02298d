import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { policySchema, validateCreateSecret } from '../../control';
import { Role, SecretState, isSecretType } from '../../domain';
import type { Policy } from '../../domain';
import { updatePolicySignal } from '../../workflows';
import { requireRole } from '../auth/access';
import { ApiError } from '../errors';
import { toLifecycle } from '../lifecycle';
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
        // Documented in full; validated by validateCreateSecret, which names policy.<field>.
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
      if (!isSecretType(row.type)) throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such secret');
      if (row.state === SecretState.Retired)
        throw new ApiError(409, 'ROT_ERR_RETIRED', 'The secret is retired');
      // The create-time rules apply unchanged (minimum interval, cron, windows, approval…),
      // and each bad field is named as policy.<field>.
      const { policy } = validateCreateSecret(
        { tenantId, name, type: row.type, requestedBy: principal.subject, policy: req.body },
        config.policy,
      );
      await toLifecycle(() =>
        temporal.workflow
          .getHandle(row.workflow_id)
          .signal(updatePolicySignal, { policy, requestedBy: principal.subject }),
      );
      return reply.code(202).send({ accepted: true, policy });
    },
  );
}
