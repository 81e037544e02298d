import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { supplyValue } from '../../control';
import { Role, isSecretType } from '../../domain';
import { requireRole } from '../auth/access';
import { ApiError } from '../errors';
import { findSecret } from '../find-secret';
import type { ApiServices } from '../services';
import { errorResponses, secretParams } from './schemas';

/** Owner-supplied values (OAuth client secrets, TLS certificates): the one way they come in. */
export function registerSupplyRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/api/v1/secrets/:tenantId/:name/supply',
    {
      schema: {
        summary:
          'Supply the new value of a secret Rotor cannot generate, while its rotation waits for one. ' +
          'A tls_certificate needs privateKey (PEM) matching the certificate; its expiry sets the next rotation.',
        params: secretParams,
        body: z.strictObject({
          value: z.string().min(1),
          privateKey: z.string().min(1).optional(),
        }),
        response: {
          202: z.object({
            accepted: z.literal(true),
            rotationId: z.string(),
            version: z.number(),
            expiresAt: z.string().nullable(),
          }),
          ...errorResponses(409, 503),
        },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, [Role.Admin, Role.Operator, Role.Tenant]);
      const row = await findSecret(services.db, principal, req.params.tenantId, req.params.name);
      if (!isSecretType(row.type)) throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such secret');
      if (!services.vault) {
        throw new ApiError(503, 'ROT_ERR_NOT_CONFIGURED', 'This API process has no Vault client');
      }
      const result = await supplyValue(
        {
          temporal: services.temporal,
          vault: services.vault,
          maxValueBytes: services.config.policy.maxValueBytes,
        },
        { workflowId: row.workflow_id, vaultPath: row.vault_path, type: row.type },
        req.body,
        principal.subject,
        principal.origin,
      );
      return reply.code(202).send({ accepted: true as const, ...result });
    },
  );
}
