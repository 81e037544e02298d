import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { lookupApiKey } from '../../api-keys';
import { Role } from '../../domain';
import type { ApiKeyUsage } from '../api-key-usage';
import { requireRole } from '../auth/access';
import { ApiError } from '../errors';
import type { ApiServices } from '../services';
import { errorResponses } from './schemas';

const verified = z.union([
  z.object({
    valid: z.literal(true),
    tenantId: z.string(),
    secretName: z.string(),
    version: z.number(),
    /** false: the previous key, accepted until its grace period ends. */
    current: z.boolean(),
  }),
  z.object({ valid: z.literal(false) }),
]);

export function registerApiKeyRoutes(
  root: FastifyInstance,
  services: ApiServices,
  usage: ApiKeyUsage,
): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const pepper = services.config.targets.apiKeyPepper;

  app.post(
    '/api/v1/api-keys/verify',
    {
      schema: {
        summary:
          'Verify a tenant API key (one indexed lookup by keyed hash). The key goes in the body, never the URL.',
        body: z.strictObject({ key: z.string().min(1).max(512) }),
        response: { 200: verified, ...errorResponses(503) },
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin, Role.Security, Role.Operator, Role.Tenant]);
      if (!pepper) {
        throw new ApiError(
          503,
          'ROT_ERR_NOT_CONFIGURED',
          'API-key verification needs ROTOR_API_KEY_PEPPER to be configured',
        );
      }
      const found = await lookupApiKey(services.db, pepper, req.body.key);
      // A tenant token learns nothing about another tenant's keys, not even that one matched.
      if (!found || (principal.role === Role.Tenant && principal.tenantId !== found.tenantId)) {
        return { valid: false as const };
      }
      usage.record(found.keyId);
      return {
        valid: true as const,
        tenantId: found.tenantId,
        secretName: found.secretName,
        version: found.version,
        current: found.current,
      };
    },
  );
}
