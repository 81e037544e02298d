import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  LifecycleUnavailableError,
  breakGlassRotate,
  createSecret,
  readLiveStatus,
  requestRotation,
  requestSchema,
  retireSecret,
} from '../../control';
import { findConnection } from '../../connections';
import {
  NAME_PATTERN,
  Role,
  SECRET_TYPES,
  TARGET_KINDS,
  TENANT_SETTABLE_TARGETS,
} from '../../domain';
import type { Principal } from '../auth/tokens';
import { assertTenant, requireRole } from '../auth/access';
import { tenantScope } from '../auth/scope';
import { ApiError } from '../errors';
import { findSecret } from '../find-secret';
import { idempotencyHeaders, idempotent } from '../idempotency';
import type { ApiServices } from '../services';
import { accepted, documentedAs, errorResponses, iso, nameParam } from './schemas';

const name = z.string().regex(NAME_PATTERN).max(63);
const secretParams = z.object({ tenantId: name, name });
const reasonBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });
const ALL = [Role.Admin, Role.Security, Role.Operator, Role.Tenant] as const;

/**
 * A tenant token may name only the targets in TENANT_SETTABLE_TARGETS: every other kind takes
 * over an account on a shared server by its name (see there). 403, naming the field.
 */
function assertTargetAllowed(principal: Principal, body: unknown): void {
  if (principal.role !== Role.Tenant) return;
  const kind = (body as { target?: { kind?: unknown } } | null)?.target?.kind;
  // An unknown kind is left to validation, which names it (400).
  if (!TARGET_KINDS.some((k) => k === kind) || TENANT_SETTABLE_TARGETS.some((k) => k === kind))
    return;
  throw new ApiError(
    403,
    'ROT_ERR_FORBIDDEN',
    `A tenant token may set only a ${TENANT_SETTABLE_TARGETS.join(' or ')} target; ` +
      'an admin or operator creates secrets that manage an account on a server',
    [{ field: 'target.kind', message: 'needs an admin or operator token' }],
  );
}

/** When rotate-now runs: at once (the default), or in the policy's next maintenance window. */
const rotateStart = z.enum(['now', 'window']);

const rotateBody = z.strictObject({
  reason: z.string().trim().min(1).max(500),
  start: rotateStart
    .optional()
    .describe(
      "'now' (default): rotate as soon as possible, whatever the maintenance window; 'window': wait for the policy's next maintenance window (the same as 'now' without one)",
    ),
});

/** What rotate-now does: starts, joins the rotation running, or waits for grace or the window. */
const rotateAnswer = z.object({
  accepted: z.literal(true),
  status: z.enum(['started', 'in_progress', 'queued']),
  rotationId: z.string(),
  /** Queued: the grace period in progress ends then, and the rotation starts. */
  startsAfter: z.string().nullable(),
  /** What the rotation does: runs at once, or waits for the maintenance window. */
  start: rotateStart,
  /** When it starts, at the earliest (grace end, window opening); null: now. */
  startsAt: z.string().nullable(),
});

const secretSummary = z.object({
  tenantId: z.string(),
  name: z.string(),
  type: z.string(),
  state: z.string(),
  workflowId: z.string(),
  currentVersion: z.number().nullable(),
  previousVersion: z.number().nullable(),
  nextRotationAt: z.string().nullable(),
  lastRotatedAt: z.string().nullable(),
  lastErrorType: z.string().nullable(),
});

export function registerSecretRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db, temporal, config } = services;
  // Documented in full; validated by createSecret, which names each bad field its own way.
  const createBody = documentedAs(
    z.looseObject({ tenantId: z.string() }),
    requestSchema(config.policy)
      .omit({ requestedBy: true })
      .extend({
        tenantId: nameParam,
        name: nameParam,
        type: z.enum(SECRET_TYPES as [string, ...string[]]),
      }),
  );

  app.post(
    '/api/v1/secrets',
    {
      schema: {
        summary:
          'Bring a secret under management (idempotent by tenant and name, and by Idempotency-Key). ' +
          'initialValue (and initialPrivateKey for a tls_certificate) imports an existing value: ' +
          'it becomes version 1 in Vault instead of a generated or requested one; a secret already ' +
          'managed answers 409 ROT_ERR_ALREADY_MANAGED and keeps its value. A target that sets an ' +
          'account on a server (postgres_role, redis_acl, mariadb_user, aws_iam_access_key) needs an ' +
          'admin or operator token; a tenant token gets 403 ROT_ERR_FORBIDDEN naming target.kind.',
        headers: idempotencyHeaders,
        body: createBody,
        response: {
          201: z.object({ workflowId: z.string(), tenantId: z.string(), name: z.string() }),
          ...errorResponses(409, 422, 503),
        },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, [Role.Admin, Role.Operator, Role.Tenant]);
      assertTenant(principal, req.body.tenantId);
      assertTargetAllowed(principal, req.body);
      return idempotent(db, principal, req, reply, async () => {
        // The full request is validated by createSecret, which names each bad field.
        const handle = await createSecret(
          temporal,
          config,
          { ...req.body, requestedBy: principal.subject },
          services.vault,
          async (connection) => (await findConnection(db, connection))?.kind ?? null,
          principal.origin,
        );
        const body = req.body as { tenantId: string; name?: unknown };
        return {
          statusCode: 201,
          body: { workflowId: handle.workflowId, tenantId: body.tenantId, name: String(body.name) },
        };
      });
    },
  );

  app.get(
    '/api/v1/secrets',
    {
      schema: {
        summary: 'List secrets, filtered and paginated',
        querystring: z.strictObject({
          tenantId: name.optional(),
          type: z.string().max(40).optional(),
          state: z.string().max(40).optional(),
          dueBefore: z.iso.datetime().optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
        }),
        response: {
          200: z.object({ items: z.array(secretSummary), limit: z.number(), offset: z.number() }),
        },
      },
    },
    async (req) => {
      const principal = requireRole(req, ALL);
      const q = req.query;
      // Naming another tenant is refused, never quietly narrowed to one's own.
      const tenantId = tenantScope(principal, q.tenantId);
      let query = db
        .selectFrom('secrets')
        .selectAll()
        .orderBy('tenant_id')
        .orderBy('name')
        .limit(q.limit)
        .offset(q.offset);
      if (tenantId) query = query.where('tenant_id', '=', tenantId);
      if (q.type) query = query.where('type', '=', q.type);
      if (q.state) query = query.where('state', '=', q.state);
      if (q.dueBefore) query = query.where('next_rotation_at', '<', new Date(q.dueBefore));
      const rows = await query.execute();
      return {
        items: rows.map((r) => ({
          tenantId: r.tenant_id,
          name: r.name,
          type: r.type,
          state: r.state,
          workflowId: r.workflow_id,
          currentVersion: r.current_version,
          previousVersion: r.previous_version,
          nextRotationAt: iso(r.next_rotation_at),
          lastRotatedAt: iso(r.last_rotated_at),
          lastErrorType: r.last_error_type,
        })),
        limit: q.limit,
        offset: q.offset,
      };
    },
  );

  app.get(
    '/api/v1/secrets/:tenantId/:name',
    {
      schema: {
        summary: 'A secret: metadata, live status and rotation history',
        params: secretParams,
      },
    },
    async (req) => {
      const principal = requireRole(req, ALL);
      const row = await findSecret(db, principal, req.params.tenantId, req.params.name);
      const [status, rotations] = await Promise.all([
        // Live status when the workflow answers in time; the row is the fallback.
        readLiveStatus(temporal, row.workflow_id),
        db
          .selectFrom('rotations')
          .select([
            'id',
            'status',
            'reason',
            'requested_by',
            'approved_by',
            'from_version',
            'to_version',
            'error_type',
            'requested_at',
            'promoted_at',
            'completed_at',
          ])
          .where('secret_id', '=', row.id)
          .orderBy('requested_at', 'desc')
          .limit(50)
          .execute(),
      ]);
      return {
        tenantId: row.tenant_id,
        name: row.name,
        type: row.type,
        state: status?.state ?? row.state,
        policy: row.policy,
        vaultPath: row.vault_path,
        currentVersion: status?.currentVersion ?? row.current_version,
        previousVersion: status?.previousVersion ?? row.previous_version,
        nextRotationAt: status?.nextRotationAt ?? iso(row.next_rotation_at),
        pendingApproval: status?.pendingApproval ?? null,
        lastErrorType: status?.lastErrorType ?? row.last_error_type,
        // What is live and what Rotor still owes, so a failed revoke or repair is visible here.
        // Without a live status, the row says whether a previous credential is still live.
        previousCredentialLive: status?.previousCredentialLive ?? row.previous_version !== null,
        revokeRetryAt: status?.revokeRetryAt ?? null,
        repair: status?.repair ?? null,
        runningRotationId: status?.rotationId ?? null,
        // A rotation waiting for the maintenance window, and when the window opens.
        waitingForWindow: status?.waitingForWindow ?? null,
        queuedRotation: status?.queuedRotation ?? null,
        liveStatus: status !== null,
        rotations,
      };
    },
  );

  app.post(
    '/api/v1/secrets/:tenantId/:name/rotate',
    {
      schema: {
        summary: 'Rotate now (a retry with the same Idempotency-Key does not rotate twice)',
        headers: idempotencyHeaders,
        params: secretParams,
        body: rotateBody,
        response: { 202: rotateAnswer, ...errorResponses(409, 422, 503) },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, [Role.Admin, Role.Operator, Role.Tenant]);
      const row = await findSecret(db, principal, req.params.tenantId, req.params.name);
      return idempotent(db, principal, req, reply, async () => {
        const answer = await requestRotation(temporal, row.workflow_id, {
          requestedBy: principal.subject,
          reason: req.body.reason,
          ...(req.body.start ? { start: req.body.start } : {}),
          ...(principal.origin ? { origin: principal.origin } : {}),
        }).catch((err: unknown) => {
          // Not refused, not a bug: the lifecycle's worker is not answering. Say so, coded.
          if (err instanceof LifecycleUnavailableError)
            throw new ApiError(503, err.code, err.message);
          throw err;
        });
        // A lifecycle running older code answers without these: it started at once.
        const body = { start: 'now' as const, startsAt: answer.startsAfter, ...answer };
        return { statusCode: 202, body: { accepted: true, ...body } };
      });
    },
  );

  app.post(
    '/api/v1/secrets/:tenantId/:name/retire',
    {
      schema: {
        summary:
          'Retire: revoke what is live and delete it from Vault (a retry with the same Idempotency-Key asks once)',
        headers: idempotencyHeaders,
        params: secretParams,
        body: reasonBody,
        response: { 202: accepted, ...errorResponses(409, 422) },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, [Role.Admin, Role.Tenant]);
      const row = await findSecret(db, principal, req.params.tenantId, req.params.name);
      return idempotent(db, principal, req, reply, async () => {
        await retireSecret(temporal, row.workflow_id, {
          requestedBy: principal.subject,
          reason: req.body.reason,
          ...(principal.origin ? { origin: principal.origin } : {}),
        });
        return { statusCode: 202, body: { accepted: true } };
      });
    },
  );

  app.post(
    '/api/v1/secrets/:tenantId/:name/break-glass',
    {
      schema: {
        summary:
          'Emergency rotation (admin): no approval, no grace wait (a retry with the same Idempotency-Key does not rotate twice)',
        headers: idempotencyHeaders,
        params: secretParams,
        body: reasonBody,
        response: { 202: accepted, ...errorResponses(409, 422) },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, [Role.Admin]);
      const row = await findSecret(db, principal, req.params.tenantId, req.params.name);
      return idempotent(db, principal, req, reply, async () => {
        await breakGlassRotate({ client: temporal, db }, row.workflow_id, {
          requestedBy: principal.subject,
          roles: [principal.role],
          reason: req.body.reason,
          ...(principal.origin ? { origin: principal.origin } : {}),
        });
        return { statusCode: 202, body: { accepted: true } };
      });
    },
  );
}
