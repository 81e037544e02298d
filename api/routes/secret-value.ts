import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { appendAudit } from '../../audit';
import { Role, SecretState, allowsValueRead } from '../../domain';
import { principalOf } from '../auth/access';
import { ApiError } from '../errors';
import { UNKNOWN_TENANT, ValueReadRefusal } from '../security-metrics';
import type { SecurityMetrics } from '../security-metrics';
import type { ApiServices } from '../services';
import { errorResponses, secretParams } from './schemas';

const READERS: readonly Role[] = [Role.Admin, Role.Operator, Role.Tenant];
const ACTION = 'secret.value_read';

type AuditEntry = Parameters<typeof appendAudit>[1];

/** The metric's reason for each refusal the audit row states. */
const REASONS = {
  role: ValueReadRefusal.Role,
  'other tenant': ValueReadRefusal.OtherTenant,
  'no such secret': ValueReadRefusal.NotFound,
  policy: ValueReadRefusal.Policy,
  'no vault client': ValueReadRefusal.Unavailable,
  'no current value': ValueReadRefusal.NoCurrentValue,
} as const satisfies Record<string, ValueReadRefusal>;

/**
 * The one endpoint that returns a secret value. Off unless the secret's policy sets
 * allowValueRead (most consumers read Vault with their own credentials). Every attempt by an
 * authenticated caller, allowed, refused or failed (Vault down), writes an audit row first; the
 * row holds the version and the stated reason, never the value. The value is not logged (pino redacts
 * `*.value`, and bodies are not logged at all).
 */
export function registerSecretValueRoutes(
  root: FastifyInstance,
  services: ApiServices,
  metrics?: SecurityMetrics,
): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db, vault } = services;

  app.post(
    '/api/v1/secrets/:tenantId/:name/value',
    {
      schema: {
        summary:
          'Read the current value (audited; only when the policy sets allowValueRead). A POST, so nothing caches or prefetches it.',
        params: secretParams,
        body: z.strictObject({ reason: z.string().trim().min(1).max(500) }),
        response: {
          200: z.object({
            tenantId: z.string(),
            name: z.string(),
            version: z.number(),
            value: z.string(),
          }),
          ...errorResponses(409, 503),
        },
      },
    },
    async (req, reply) => {
      const principal = principalOf(req);
      const { tenantId, name } = req.params;
      const audit = (
        outcome: AuditEntry['outcome'],
        details: AuditEntry['details'],
        secretId: string | null,
      ) =>
        appendAudit(db, {
          tenantId,
          secretId,
          actor: principal.subject,
          action: ACTION,
          outcome,
          details: { secret: name, reason: req.body.reason, role: principal.role, ...details },
          idempotencyKey: `${ACTION}:${randomUUID()}`,
          origin: principal.origin,
        });
      const refuse = async (
        error: ApiError,
        why: keyof typeof REASONS,
        secretId: string | null = null,
      ): Promise<never> => {
        await audit('refused', { why }, secretId);
        if (metrics) {
          // The URL names any tenant: only one that exists becomes a label, so labels stay few.
          const tenant =
            secretId !== null ||
            (await db
              .selectFrom('tenants')
              .select('id')
              .where('id', '=', tenantId)
              .executeTakeFirst())
              ? tenantId
              : UNKNOWN_TENANT;
          metrics.valueReadRefused(tenant, REASONS[why]);
        }
        throw error;
      };
      const notFound = new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such secret');

      if (!READERS.includes(principal.role)) {
        await refuse(
          new ApiError(
            403,
            'ROT_ERR_FORBIDDEN',
            `This needs one of the roles: ${READERS.join(', ')}`,
          ),
          'role',
        );
      }
      // Another tenant's secret answers exactly like a missing one (and is audited as refused).
      if (principal.role === Role.Tenant && principal.tenantId !== tenantId) {
        await refuse(notFound, 'other tenant');
      }
      const row = await db
        .selectFrom('secrets')
        .select(['id', 'policy', 'state', 'vault_path', 'current_version'])
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .executeTakeFirst();
      if (!row) return refuse(notFound, 'no such secret');
      if (!allowsValueRead(row.policy)) {
        return refuse(
          new ApiError(
            403,
            'ROT_ERR_VALUE_READ_DISABLED',
            'Reading this secret’s value over the API is off (policy.allowValueRead); read it from Vault',
          ),
          'policy',
          row.id,
        );
      }
      if (!vault) {
        // A deployment without Vault access for the API: not the caller's fault, and not a bug.
        return refuse(
          new ApiError(503, 'ROT_ERR_VALUE_READ_UNAVAILABLE', 'Value reads are not set up here'),
          'no vault client',
          row.id,
        );
      }
      // Vault's own label says which version is current; the row is a projection of it.
      const readCurrent = async () => {
        const labels = (await vault.metadata(row.vault_path)).labels;
        const version = labels.current ?? row.current_version;
        return row.state === SecretState.Retired || version === null || version === undefined
          ? undefined
          : vault.read(row.vault_path, version);
      };
      const stored = await readCurrent().catch(async (err: unknown) => {
        // Vault down (or failing): the attempt is audited as a failure, not a refusal (the
        // caller did nothing wrong, so no refusal metric), and the error goes on to the handler,
        // which answers 503 naming Vault. An audit write that fails too does not hide it.
        await audit('failure', { why: 'vault error' }, row.id).catch(() => undefined);
        throw err;
      });
      const value = stored?.data.value;
      if (!stored || typeof value !== 'string') {
        return refuse(
          new ApiError(409, 'ROT_ERR_NO_CURRENT_VALUE', 'The secret has no current value'),
          'no current value',
          row.id,
        );
      }
      // Audit before answering: if the row cannot be written, the value is not handed out.
      await audit('success', { version: stored.version }, row.id);
      return reply
        .header('cache-control', 'no-store')
        .send({ tenantId, name, version: stored.version, value });
    },
  );
}
