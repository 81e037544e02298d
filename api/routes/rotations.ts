import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import { RotationStatus, Role, SECRET_TYPES, SecretState } from '../../domain';
import { requireRole } from '../auth/access';
import { tenantScope } from '../auth/scope';
import { ApiError } from '../errors';
import type { ApiServices } from '../services';
import { iso, nameParam, pageQuery } from './schemas';

const ALL = [Role.Admin, Role.Security, Role.Operator, Role.Tenant] as const;
const DAY_MS = 86_400_000;
/** Ten years: further out than any schedule Rotor keeps, and far from Date's limits. */
const MAX_DUE_DAYS = 3650;

const dueItem = z.object({
  tenantId: z.string(),
  name: z.string(),
  type: z.string(),
  state: z.string(),
  nextRotationAt: z.string(),
  /** Already past its due time (waiting for approval, a window, or a fix). */
  overdue: z.boolean(),
});

const rotationItem = z.object({
  id: z.string(),
  tenantId: z.string(),
  secretName: z.string(),
  secretType: z.string(),
  status: z.string(),
  reason: z.string(),
  requestedBy: z.string(),
  approvedBy: z.string().nullable(),
  fromVersion: z.number().nullable(),
  toVersion: z.number().nullable(),
  errorType: z.string().nullable(),
  requestedAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  /**
   * When the new value became current. A rotation promoted and finished in one step (the current
   * path) goes from its last working status straight to COMPLETED: this says when it was promoted.
   */
  promotedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
});

const decision = z.object({
  approver: z.string(),
  decision: z.string(),
  reason: z.string().nullable(),
  decidedAt: z.string().nullable(),
});

export function registerRotationRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db } = services;

  const rotations = () =>
    db
      .selectFrom('rotations as r')
      .innerJoin('secrets as s', 's.id', 'r.secret_id')
      .select([
        'r.id',
        's.tenant_id',
        's.name',
        's.type',
        'r.status',
        'r.reason',
        'r.requested_by',
        'r.approved_by',
        'r.from_version',
        'r.to_version',
        'r.error_type',
        'r.requested_at',
        'r.started_at',
        'r.promoted_at',
        'r.completed_at',
      ]);
  type Row = Awaited<ReturnType<ReturnType<typeof rotations>['executeTakeFirstOrThrow']>>;
  const view = (r: Row): z.infer<typeof rotationItem> => ({
    id: r.id,
    tenantId: r.tenant_id,
    secretName: r.name,
    secretType: r.type,
    status: r.status,
    reason: r.reason,
    requestedBy: r.requested_by,
    approvedBy: r.approved_by,
    fromVersion: r.from_version,
    toVersion: r.to_version,
    errorType: r.error_type,
    requestedAt: iso(r.requested_at),
    startedAt: iso(r.started_at),
    promotedAt: iso(r.promoted_at),
    completedAt: iso(r.completed_at),
  });

  app.get(
    '/api/v1/rotations/due',
    {
      schema: {
        summary: 'Secrets whose next rotation is due within N days (overdue ones first)',
        querystring: z.strictObject({
          withinDays: z.coerce.number().int().min(0).max(MAX_DUE_DAYS),
          tenantId: nameParam.optional(),
          type: z.enum(SECRET_TYPES).optional(),
          ...pageQuery,
        }),
        response: {
          200: z.object({
            items: z.array(dueItem),
            withinDays: z.number(),
            limit: z.number(),
            offset: z.number(),
          }),
        },
      },
    },
    async (req) => {
      const principal = requireRole(req, ALL);
      const q = req.query;
      const tenantId = tenantScope(principal, q.tenantId);
      const now = new Date();
      let query = db
        .selectFrom('secrets')
        .select(['tenant_id', 'name', 'type', 'state', 'next_rotation_at'])
        .where('state', '!=', SecretState.Retired)
        .where('next_rotation_at', 'is not', null)
        .where('next_rotation_at', '<=', new Date(now.getTime() + q.withinDays * DAY_MS))
        .orderBy('next_rotation_at')
        .orderBy('tenant_id')
        .orderBy('name')
        .limit(q.limit)
        .offset(q.offset);
      if (tenantId) query = query.where('tenant_id', '=', tenantId);
      if (q.type) query = query.where('type', '=', q.type);
      const rows = await query.execute();
      return {
        items: rows.flatMap((r) => {
          const due = iso(r.next_rotation_at);
          if (due === null) return [];
          return [
            {
              tenantId: r.tenant_id,
              name: r.name,
              type: r.type,
              state: r.state,
              nextRotationAt: due,
              overdue: Date.parse(due) < now.getTime(),
            },
          ];
        }),
        withinDays: q.withinDays,
        limit: q.limit,
        offset: q.offset,
      };
    },
  );

  app.get(
    '/api/v1/rotations',
    {
      schema: {
        summary: 'Rotations, newest first, filtered by tenant, secret and status',
        querystring: z.strictObject({
          tenantId: nameParam.optional(),
          secret: nameParam.optional(),
          status: z.enum(Object.values(RotationStatus)).optional(),
          ...pageQuery,
        }),
        response: {
          200: z.object({
            items: z.array(rotationItem),
            total: z.number(),
            limit: z.number(),
            offset: z.number(),
          }),
        },
      },
    },
    async (req) => {
      const principal = requireRole(req, ALL);
      const q = req.query;
      const tenantId = tenantScope(principal, q.tenantId);
      let page = rotations()
        .orderBy('r.requested_at', 'desc')
        .orderBy('r.id')
        .limit(q.limit)
        .offset(q.offset);
      let counted = db
        .selectFrom('rotations as r')
        .innerJoin('secrets as s', 's.id', 'r.secret_id')
        .select(sql<string>`count(*)`.as('n'));
      if (tenantId) {
        page = page.where('s.tenant_id', '=', tenantId);
        counted = counted.where('s.tenant_id', '=', tenantId);
      }
      if (q.secret) {
        page = page.where('s.name', '=', q.secret);
        counted = counted.where('s.name', '=', q.secret);
      }
      if (q.status) {
        page = page.where('r.status', '=', q.status);
        counted = counted.where('r.status', '=', q.status);
      }
      const [rows, count] = await Promise.all([page.execute(), counted.executeTakeFirstOrThrow()]);
      return { items: rows.map(view), total: Number(count.n), limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    '/api/v1/rotations/:rotationId',
    {
      schema: {
        summary: 'One rotation, with the approval decisions recorded for it',
        params: z.object({ rotationId: z.uuid() }),
        response: { 200: rotationItem.extend({ decisions: z.array(decision) }) },
      },
    },
    async (req) => {
      const principal = requireRole(req, ALL);
      const row = await rotations().where('r.id', '=', req.params.rotationId).executeTakeFirst();
      // Another tenant's rotation answers exactly like a missing one.
      if (!row) throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such rotation');
      if (principal.role === Role.Tenant && principal.tenantId !== row.tenant_id) {
        throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such rotation');
      }
      const decisions = await db
        .selectFrom('approvals')
        .select(['approver', 'decision', 'reason', 'decided_at'])
        .where('rotation_id', '=', row.id)
        .orderBy('decided_at')
        .execute();
      return {
        ...view(row),
        decisions: decisions.map((d) => ({
          approver: d.approver,
          decision: d.decision,
          reason: d.reason,
          decidedAt: iso(d.decided_at),
        })),
      };
    },
  );
}
