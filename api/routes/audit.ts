import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { archiveAuditEvents, verifyAuditTrail } from '../../audit';
import type { Database } from '../../db';
import { NAME_PATTERN, Role } from '../../domain';
import { assertTenant, requireRole } from '../auth/access';
import { ApiError } from '../errors';
import { findSecret } from '../find-secret';
import type { ApiServices } from '../services';

const name = z.string().regex(NAME_PATTERN).max(63);
const ALL = [Role.Admin, Role.Security, Role.Operator, Role.Tenant] as const;

const eventFilters = {
  /** An exact action, or a prefix ending in `*` (e.g. `rotation.*`). */
  action: z
    .string()
    .regex(/^[a-z0-9_.-]{1,100}\*?$/)
    .optional(),
  // No control characters: PostgreSQL refuses a NUL in text, which must be a 400, not a 500.
  actor: z
    .string()
    .min(1)
    .max(200)
    .refine(
      (v) => ![...v].some((c) => c.charCodeAt(0) < 0x20),
      'must not contain control characters',
    )
    .optional(),
  since: z.iso.datetime().optional(),
  until: z.iso.datetime().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

const auditEvent = z.object({
  id: z.string(),
  seq: z.number(),
  tenantId: z.string().nullable(),
  secretName: z.string().nullable(),
  rotationId: z.string().nullable(),
  actor: z.string(),
  action: z.string(),
  outcome: z.string(),
  details: z.record(z.string(), z.unknown()),
  occurredAt: z.string(),
  hash: z.string(),
  /** The API caller's IP and user agent; null for what Rotor did on its own, and on old rows. */
  clientIp: z.string().nullable(),
  userAgent: z.string().nullable(),
});
const eventPage = z.object({ items: z.array(auditEvent), limit: z.number(), offset: z.number() });

interface EventQuery {
  tenantId: string;
  secretId?: string;
  action?: string | undefined;
  actor?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
  offset: number;
}

/** A page of a tenant's audit events, newest first. Details hold ids and reasons, never values. */
async function listEvents(db: Kysely<Database>, q: EventQuery) {
  let query = db
    .selectFrom('audit_events')
    .leftJoin('secrets', 'secrets.id', 'audit_events.secret_id')
    .select([
      'audit_events.id',
      'audit_events.chain_seq',
      'audit_events.tenant_id',
      'secrets.name as secret_name',
      'audit_events.rotation_id',
      'audit_events.actor',
      'audit_events.action',
      'audit_events.outcome',
      'audit_events.details',
      'audit_events.occurred_at',
      'audit_events.hash',
      'audit_events.client_ip',
      'audit_events.user_agent',
    ])
    .where('audit_events.tenant_id', '=', q.tenantId)
    .orderBy('audit_events.id', 'desc')
    .limit(q.limit)
    .offset(q.offset);
  if (q.secretId) query = query.where('audit_events.secret_id', '=', q.secretId);
  if (q.action?.endsWith('*')) {
    const prefix = q.action.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`);
    query = query.where('audit_events.action', 'like', `${prefix}%`);
  } else if (q.action) query = query.where('audit_events.action', '=', q.action);
  if (q.actor) query = query.where('audit_events.actor', '=', q.actor);
  if (q.since) query = query.where('audit_events.occurred_at', '>=', new Date(q.since));
  if (q.until) query = query.where('audit_events.occurred_at', '<', new Date(q.until));
  const rows = await query.execute();
  return {
    items: rows.map((r) => ({
      id: r.id,
      seq: Number(r.chain_seq),
      tenantId: r.tenant_id,
      secretName: r.secret_name,
      rotationId: r.rotation_id,
      actor: r.actor,
      action: r.action,
      outcome: r.outcome,
      details: r.details,
      occurredAt: r.occurred_at.toISOString(),
      hash: r.hash,
      clientIp: r.client_ip,
      userAgent: r.user_agent,
    })),
    limit: q.limit,
    offset: q.offset,
  };
}

export function registerAuditRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db } = services;

  app.get(
    '/api/v1/secrets/:tenantId/:name/audit',
    {
      schema: {
        summary: "A secret's audit events, newest first, filtered by time, action and actor",
        params: z.object({ tenantId: name, name }),
        querystring: z.strictObject(eventFilters),
        response: { 200: eventPage },
      },
    },
    async (req) => {
      const principal = requireRole(req, ALL);
      const secret = await findSecret(db, principal, req.params.tenantId, req.params.name);
      return listEvents(db, { ...req.query, tenantId: req.params.tenantId, secretId: secret.id });
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId/audit',
    {
      schema: {
        summary: "A tenant's audit events, newest first, filtered by time, action and actor",
        params: z.object({ tenantId: name }),
        querystring: z.strictObject(eventFilters),
        response: { 200: eventPage },
      },
    },
    async (req) => {
      const principal = requireRole(req, ALL);
      assertTenant(principal, req.params.tenantId);
      const tenant = await db
        .selectFrom('tenants')
        .select('id')
        .where('id', '=', req.params.tenantId)
        .executeTakeFirst();
      if (!tenant) throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such tenant');
      return listEvents(db, { ...req.query, tenantId: req.params.tenantId });
    },
  );

  app.get(
    '/api/v1/audit/verify',
    {
      schema: {
        summary:
          'Verify the hash-chained audit trail (admin, security): every chain, or one tenant’s; names the first bad row',
        querystring: z.strictObject({
          tenantId: name.optional(),
          scope: z.enum(['live', 'archive', 'all']).default('all'),
        }),
      },
    },
    async (req) => {
      requireRole(req, [Role.Admin, Role.Security]);
      return verifyAuditTrail(db, {
        ...(req.query.tenantId ? { tenantId: req.query.tenantId } : {}),
        scope: req.query.scope,
      });
    },
  );

  app.post(
    '/api/v1/audit/archive',
    {
      schema: {
        summary:
          'Move audit events older than N days to the archive (admin), leaving checkpoints so both still verify',
        body: z.strictObject({
          olderThanDays: z.number().int().min(0).max(36_500),
          tenantId: name.optional(),
        }),
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin]);
      return archiveAuditEvents(db, {
        before: new Date(Date.now() - req.body.olderThanDays * 86_400_000),
        actor: principal.subject,
        ...(principal.origin ? { origin: principal.origin } : {}),
        ...(req.body.tenantId ? { tenantId: req.body.tenantId } : {}),
      });
    },
  );
}
