import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { appendAudit } from '../../audit';
import { Role, SecretState } from '../../domain';
import { pauseSignal, resumeSignal, statusQuery } from '../../workflows';
import { requireRole } from '../auth/access';
import { ApiError } from '../errors';
import { findSecret } from '../find-secret';
import { toLifecycle } from '../lifecycle';
import type { ApiServices } from '../services';
import { errorBody, secretParams } from './schemas';

/** Who may stop and restart a lifecycle: the roles that may rotate it. */
const CONTROLLERS = [Role.Admin, Role.Operator, Role.Tenant] as const;
const STATUS_QUERY_DEADLINE_MS = 5_000;
/** What the lifecycle accepts in a reason; a longer one would be ignored by the workflow. */
const MAX_REASON = 500;
const RETRY_PREFIX = 'retry: ';

// A control character would make the workflow ignore the signal: refuse it here, as a 400.
const reasonBody = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(1)
    .max(MAX_REASON)
    .refine(
      (v) => ![...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
      'must not contain control characters',
    ),
});

const Action = { Pause: 'pause', Resume: 'resume', Retry: 'retry' } as const;
type Action = (typeof Action)[keyof typeof Action];

const answer = z.object({
  accepted: z.literal(true),
  action: z.enum([Action.Pause, Action.Resume, Action.Retry]),
  /** The secret's state when the request was taken (the change shows in its status shortly). */
  state: z.string(),
});

const SUMMARIES: Record<Action, string> = {
  pause:
    'Pause the lifecycle: no scheduled rotation until resumed (202; pausing a paused secret is a no-op)',
  resume:
    'Resume a paused secret, or one in NEEDS_ATTENTION (which retries its rotation); otherwise 409 ROT_ERR_NOT_PAUSED',
  retry:
    'Retry the failed rotation of a secret in NEEDS_ATTENTION; otherwise 409 ROT_ERR_NOT_NEEDS_ATTENTION',
};

/** Why an action makes no sense in `state` (a coded 409), or null when it does. */
function refusal(action: Action, state: string, paused: boolean): ApiError | null {
  if (action === Action.Retry && state !== SecretState.NeedsAttention) {
    return new ApiError(
      409,
      'ROT_ERR_NOT_NEEDS_ATTENTION',
      `Retry is for a secret in ${SecretState.NeedsAttention}; this one is ${state}`,
    );
  }
  if (
    action === Action.Resume &&
    !paused &&
    state !== SecretState.Paused &&
    state !== SecretState.NeedsAttention
  ) {
    return new ApiError(
      409,
      'ROT_ERR_NOT_PAUSED',
      `Resume is for a paused secret or one in ${SecretState.NeedsAttention}; this one is ${state}`,
    );
  }
  return null;
}

/**
 * The operator's way back: pause, resume, and retry after a failure. Each is role-checked,
 * tenant-isolated (another tenant's secret answers 404), audited with the caller's subject, and
 * refused with a coded 409 when it makes no sense in the secret's state.
 */
export function registerSecretControlRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db, temporal } = services;

  for (const action of Object.values(Action)) {
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
        const handle = temporal.workflow.getHandle(row.workflow_id);
        const { reason } = req.body;
        const audit = (outcome: 'success' | 'refused', state: string, why?: string) =>
          appendAudit(db, {
            tenantId: row.tenant_id,
            secretId: row.id,
            actor: principal.subject,
            action: `secret.${action}_requested`,
            outcome,
            details: {
              secret: row.name,
              reason,
              role: principal.role,
              state,
              ...(why ? { why } : {}),
            },
            idempotencyKey: `secret.${action}_requested:${randomUUID()}`,
          });

        const description = await toLifecycle(() => handle.describe());
        if (description.status.name !== 'RUNNING') {
          await audit('refused', row.state, 'not running');
          throw new ApiError(
            409,
            'ROT_ERR_NOT_RUNNING',
            'This secret’s lifecycle is not running (it may be retired)',
          );
        }
        // The live state when the workflow answers in time; the row (its projection) otherwise.
        const status = await temporal
          .withDeadline(Date.now() + STATUS_QUERY_DEADLINE_MS, () => handle.query(statusQuery))
          .catch(() => null);
        const state = status?.state ?? row.state;
        const refused = refusal(action, state, status?.paused ?? state === SecretState.Paused);
        if (refused) {
          await audit('refused', state, refused.code);
          throw refused;
        }

        const requester = { requestedBy: principal.subject, reason };
        await toLifecycle(() => {
          if (action === Action.Pause) return handle.signal(pauseSignal, requester);
          if (action === Action.Resume) return handle.signal(resumeSignal, requester);
          // The workflow retries on resume; the prefix keeps the retry visible in its records.
          const retryReason = `${RETRY_PREFIX}${reason}`.slice(0, MAX_REASON);
          return handle.signal(resumeSignal, { ...requester, reason: retryReason });
        });
        await audit('success', state);
        return reply.code(202).send({ accepted: true as const, action, state });
      },
    );
  }
}
