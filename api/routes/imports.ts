import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { appendAudit } from '../../audit';
import { KvImportOutcome, MAX_KV_IMPORT_KEYS, importFromKv, policySchema } from '../../control';
import { findConnection } from '../../connections';
import { Role, SECRET_TYPES } from '../../domain';
import type { SecretType } from '../../domain';
import { requireRole } from '../auth/access';
import { ApiError } from '../errors';
import type { ApiServices } from '../services';
import { documentedAs, errorResponses, nameParam } from './schemas';

const kvImportAnswer = z.object({
  tenantId: z.string(),
  path: z.string(),
  type: z.string(),
  dryRun: z.boolean(),
  partial: z.boolean(),
  /** One entry per key of the source secret, sorted by key; never a value. */
  secrets: z.array(
    z.object({
      key: z.string(),
      name: z.string().nullable(),
      outcome: z.enum(Object.values(KvImportOutcome) as [KvImportOutcome, ...KvImportOutcome[]]),
      reason: z.string().optional(),
    }),
  ),
});

/**
 * `POST /api/v1/tenants/:tenantId/imports/kv` (admin): brings the keys of an existing KV v2
 * secret under management, one secret per key, with their current values. Admin only and
 * limited to ROTOR_IMPORT_KV_PREFIXES, since it reads paths outside Rotor's own.
 */
export function registerImportRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db, temporal, config } = services;
  const body = z.strictObject({
    path: z
      .string()
      .min(1)
      .max(512)
      .describe('A KV v2 secret under VAULT_KV_MOUNT, such as legacy/orders (no mount prefix)'),
    type: z.enum(SECRET_TYPES as [string, ...string[]]),
    // Checked in full by control (createSecret's rules), which names each bad field.
    policy: documentedAs(z.record(z.string(), z.unknown()), policySchema(config.policy)).optional(),
    dryRun: z.boolean().default(false),
    partial: z.boolean().default(false),
  });

  app.post(
    '/api/v1/tenants/:tenantId/imports/kv',
    {
      schema: {
        tags: ['secrets'],
        summary:
          `Import existing secrets from a KV v2 path (admin): one secret per key (DB_PASSWORD → db-password), ` +
          `each created with its current value as version 1; at most ${MAX_KV_IMPORT_KEYS} keys. ` +
          'Only paths under ROTOR_IMPORT_KV_PREFIXES (403 ROT_ERR_IMPORT_KV_DISABLED when unset). ' +
          'A dry run creates nothing; without partial, one invalid key means nothing is created. ' +
          'The answer names keys and outcomes, never a value.',
        params: z.object({ tenantId: nameParam }),
        body,
        response: { 200: kvImportAnswer, ...errorResponses(503) },
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin]);
      if (!services.vault)
        throw new ApiError(503, 'ROT_ERR_NOT_CONFIGURED', 'This API process has no Vault client');
      const { tenantId } = req.params;
      const request = {
        tenantId,
        path: req.body.path,
        type: req.body.type as SecretType,
        ...(req.body.policy ? { policy: req.body.policy } : {}),
        dryRun: req.body.dryRun,
        partial: req.body.partial,
        requestedBy: principal.subject,
        ...(principal.origin ? { origin: principal.origin } : {}),
      };
      const secrets = await importFromKv(
        {
          client: temporal,
          config,
          vault: services.vault,
          managed: async (tenant, name) =>
            (await db
              .selectFrom('secrets')
              .select('id')
              .where('tenant_id', '=', tenant)
              .where('name', '=', name)
              .executeTakeFirst()) !== undefined,
          connections: async (connection) => (await findConnection(db, connection))?.kind ?? null,
        },
        request,
      );
      // Who read which legacy path, and which secrets came of it (names only); each created
      // secret's own rows say the rest.
      await appendAudit(db, {
        tenantId,
        actor: principal.subject,
        action: 'secrets.kv_import',
        outcome: 'success',
        details: {
          path: request.path,
          type: request.type,
          dryRun: request.dryRun,
          partial: request.partial,
          keys: secrets.length,
          // Names only, comma-separated (details are flat): what was created, or would be.
          created: secrets
            .filter((x) => x.outcome === 'created' || x.outcome === 'would_create')
            .map((x) => x.name)
            .join(','),
        },
        idempotencyKey: `kv-import:${tenantId}:${randomUUID()}`,
        origin: principal.origin,
      });
      return {
        tenantId,
        path: request.path,
        type: request.type,
        dryRun: request.dryRun,
        partial: request.partial,
        secrets,
      };
    },
  );
}
