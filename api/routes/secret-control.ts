import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MAX_CONTROL_REASON, SecretAction, controlSecret } from '../../control';
import { Role } from '../../domain';
import { requireRole } from '../auth/access';
import { findSecret } from '../find-secret';
import type { ApiServices } from '../services';
import { errorBody, secretParams } from './schemas';

/** Who may stop and restart a lifecycle: the roles that may rotate it. */
const CONTROLLERS = [Role.Admin, Role.Operator, Role.Tenant] as const;

// A control character would make the workflow ignore the signal: refuse it here, as a 400.
const reasonBody = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(1)
    .max(MAX_CONTROL_REASON)
    .refine(
      (v) => ![...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
      'must not contain control characters',
    ),
});

const answer = z.object({
  accepted: z.literal(true),
  action: z.enum([SecretAction.Pause, SecretAction.Resume, SecretAction.Retry]),
  /** The secret's state when the request was taken (the change shows in its status shortly). */
  state: z.string(),
});

const SUMMARIES: Record<SecretAction, string> = {
  pause:
    'Pause the lifecycle: no scheduled rotation until resumed (202; pausing a paused secret is a no-op)',
  resume:
    'Resume a paused secret, or one in NEEDS_ATTENTION (which retries its rotation); otherwise 409 ROT_ERR_NOT_PAUSED',
  retry:
    'Retry the failed rotation of a secret in NEEDS_ATTENTION; otherwise 409 ROT_ERR_NOT_NEEDS_ATTENTION',
};

/**
 * The operator's way back: pause, resume, and retry after a failure. Each is role-checked and
 * tenant-isolated (another tenant's secret answers 404) here; control/ audits it with the caller's
 * subject and refuses it with a coded 409 when it makes no sense in the secret's state.
 */
export function registerSecretControlRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db, temporal } = services;

  for (const action of Object.values(SecretAction)) {
    app.post(
      `/api/v1/secrets/:tenantId/:name/${action}`,
      {
        schema: {
          summary: SUMMARIES[action],
          params: secretParams,
          body: reasonBody,
          // 400, 401, 403 and 404 are added to every /api/v1 route in one place (api/openapi.ts).
          response: {
            202: answer,
            409: errorBody.describe(
              'ROT_ERR_NOT_RUNNING (the lifecycle has ended), ROT_ERR_NOT_PAUSED (resume) or ROT_ERR_NOT_NEEDS_ATTENTION (retry)',
            ),
          },
        },
      },
      async (req, reply) => {
        const principal = requireRole(req, CONTROLLERS);
        const row = await findSecret(db, principal, req.params.tenantId, req.params.name);
        const { state } = await controlSecret(
          { client: temporal, db },
          {
            id: row.id,
            tenantId: row.tenant_id,
            name: row.name,
            state: row.state,
            workflowId: row.workflow_id,
          },
          action,
          {
            subject: principal.subject,
            role: principal.role,
            reason: req.body.reason,
            origin: principal.origin,
          },
        );
        return reply.code(202).send({ accepted: true as const, action, state });
      },
    );
  }
}
