import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { supplyValue } from '../../client';
import { NAME_PATTERN, Role, isSecretType } from '../../domain';
import { assertTenant, requireRole } from '../auth/access';
import { ApiError } from '../errors';
import type { ApiServices } from '../services';

const name = z.string().regex(NAME_PATTERN).max(63);

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
        params: z.object({ tenantId: name, name }),
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
        },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, [Role.Admin, Role.Operator, Role.Tenant]);
      assertTenant(principal, req.params.tenantId);
      const row = await services.db
        .selectFrom('secrets')
        .select(['type'])
        .where('tenant_id', '=', req.params.tenantId)
        .where('name', '=', req.params.name)
        .executeTakeFirst();
      if (!row || !isSecretType(row.type))
        throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such secret');
      if (!services.vault) {
        throw new ApiError(503, 'ROT_ERR_NOT_CONFIGURED', 'This API process has no Vault client');
      }
      const result = await supplyValue(
        {
          temporal: services.temporal,
          vault: services.vault,
          maxValueBytes: services.config.policy.maxValueBytes,
        },
        { tenantId: req.params.tenantId, name: req.params.name, type: row.type },
        req.body,
        principal.name,
      );
      return reply.code(202).send({ accepted: true as const, ...result });
    },
  );
}
