import type { FastifyInstance } from 'fastify';
import type { FastifyRouteSchemaDef } from 'fastify/types/schema';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { lookupApiKeyByHash, presentedKeyHash } from '../../api-keys';
import type { VerifiedApiKey } from '../../api-keys';
import { Role } from '../../domain';
import type { ApiKeyUsage } from '../api-key-usage';
import { requireRole } from '../auth/access';
import type { CredentialCache } from '../credential-cache';
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
type Verified = z.infer<typeof verified>;

/**
 * The 200 answer written directly, field by field, instead of through zod (a parse of the union,
 * then JSON.stringify): this is the API's hottest route. It writes exactly the fields `verified`
 * declares, from values the handler typed, so nothing else can reach the body; every other
 * status (errors) keeps the shared zod serializer.
 */
function serializeVerified(answer: Verified): string {
  if (!answer.valid) return '{"valid":false}';
  return `{"valid":true,"tenantId":${JSON.stringify(answer.tenantId)},"secretName":${JSON.stringify(
    answer.secretName,
  )},"version":${JSON.stringify(answer.version)},"current":${answer.current ? 'true' : 'false'}}`;
}
const verifySerializer = (route: FastifyRouteSchemaDef<unknown>): ((data: unknown) => string) =>
  route.httpStatus === '200'
    ? (data) => serializeVerified(data as Verified)
    : serializerCompiler(route as Parameters<typeof serializerCompiler>[0]);

/**
 * The key stored under `hash`, from the credential cache when it serves (see
 * api/credential-cache.ts): an entry is dropped when its key or its secret's current version
 * changes (`key:<id>`, `secret:<id>` notifications), and lives at most the cache's TTL. Keys
 * that are unknown or revoked are read every time.
 */
async function findKey(
  services: ApiServices,
  cache: CredentialCache | undefined,
  hash: string,
): Promise<VerifiedApiKey | null> {
  const cacheKey = `key:${hash}`;
  const cached = cache?.get<VerifiedApiKey>(cacheKey);
  if (cached) return cached;
  const ticket = cache?.ticket();
  const found = await lookupApiKeyByHash(services.db, hash);
  if (found) {
    cache?.put(ticket, cacheKey, found, {
      tags: [`key:${found.keyId}`, `secret:${found.secretId}`],
    });
  }
  return found;
}

export function registerApiKeyRoutes(
  root: FastifyInstance,
  services: ApiServices,
  usage: ApiKeyUsage,
  cache?: CredentialCache,
): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const pepper = services.config.targets.apiKeyPepper;

  app.post(
    '/api/v1/api-keys/verify',
    {
      schema: {
        summary:
          'Verify a tenant API key (one indexed lookup by keyed hash, or a cached verification that a revocation or rotation drops). The key goes in the body, never the URL.',
        body: z.strictObject({ key: z.string().min(1).max(512) }),
        response: { 200: verified, ...errorResponses(503) },
      },
      serializerCompiler: verifySerializer,
    },
    async (req): Promise<Verified> => {
      const principal = requireRole(req, [Role.Admin, Role.Security, Role.Operator, Role.Tenant]);
      if (!pepper) {
        throw new ApiError(
          503,
          'ROT_ERR_NOT_CONFIGURED',
          'API-key verification needs ROTOR_API_KEY_PEPPER to be configured',
        );
      }
      const hash = presentedKeyHash(pepper, req.body.key);
      const found = hash === null ? null : await findKey(services, cache, hash);
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
