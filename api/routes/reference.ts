import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import {
  DEFAULT_APPROVAL,
  DEFAULT_POLICIES,
  DEFAULT_UPCOMING_NOTICE_SECONDS,
  Role,
  SECRET_TYPES,
  SecretState,
} from '../../domain';
import { assertTenant, requireRole } from '../auth/access';
import { tenantScope } from '../auth/scope';
import { ApiError } from '../errors';
import type { ApiServices } from '../services';
import { iso, nameParam, pageQuery } from './schemas';

const ALL = [Role.Admin, Role.Security, Role.Operator, Role.Tenant] as const;
const counts = z.record(z.string(), z.number());

const notificationSettings = z.object({
  emails: z.array(z.string()).optional(),
  slackChannel: z.string().optional(),
});
const tenantView = z.object({
  id: z.string(),
  name: z.string(),
  notificationSettings,
  secrets: z.number(),
  createdAt: z.string().nullable(),
});

const defaultPolicy = z.object({
  schedule: z.union([
    z.object({ kind: z.literal('interval'), everySeconds: z.number() }),
    z.object({ kind: z.literal('cron'), expression: z.string(), timeZone: z.string().optional() }),
  ]),
  graceSeconds: z.number(),
  requiresApproval: z.boolean(),
  autoGenerate: z.boolean(),
  versionsKept: z.number(),
  maxAttempts: z.number(),
  upcomingNoticeSeconds: z.number(),
  allowValueRead: z.boolean(),
  approval: z.object({
    quorum: z.number(),
    remindEverySeconds: z.number(),
    escalateAfterSeconds: z.number(),
    expireAfterSeconds: z.number(),
  }),
});

/** Only the keys Rotor writes, so nothing else stored in the column leaks out by accident. */
function settingsOf(raw: Record<string, unknown>): z.infer<typeof notificationSettings> {
  const emails = Array.isArray(raw.emails)
    ? raw.emails.filter((e): e is string => typeof e === 'string')
    : undefined;
  const slack = typeof raw.slackChannel === 'string' ? raw.slackChannel : undefined;
  return { ...(emails ? { emails } : {}), ...(slack ? { slackChannel: slack } : {}) };
}

const toCounts = (rows: { key: string; n: string | number | bigint }[]): Record<string, number> =>
  Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));

export function registerReferenceRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db } = services;

  app.get(
    '/api/v1/stats',
    {
      schema: {
        summary: 'Counts for the caller’s scope: secrets by state and type, rotations by outcome',
        querystring: z.strictObject({ tenantId: nameParam.optional() }),
        response: {
          200: z.object({
            tenantId: z.string().nullable(),
            secrets: z.object({ total: z.number(), byState: counts, byType: counts }),
            overdue: z.number(),
            rotations: z.object({ total: z.number(), byStatus: counts }),
          }),
        },
      },
    },
    async (req) => {
      const principal = requireRole(req, ALL);
      const tenantId = tenantScope(principal, req.query.tenantId);
      const secrets = () => {
        const q = db.selectFrom('secrets');
        return tenantId ? q.where('tenant_id', '=', tenantId) : q;
      };
      const n = sql<string>`count(*)`.as('n');
      let rotationsByStatus = db
        .selectFrom('rotations as r')
        .innerJoin('secrets as s', 's.id', 'r.secret_id')
        .select(['r.status as key', n])
        .groupBy('r.status');
      if (tenantId) rotationsByStatus = rotationsByStatus.where('s.tenant_id', '=', tenantId);
      const [byState, byType, overdue, byStatus] = await Promise.all([
        secrets().select(['state as key', n]).groupBy('state').execute(),
        secrets().select(['type as key', n]).groupBy('type').execute(),
        secrets()
          .select(n)
          .where('state', '!=', SecretState.Retired)
          .where('next_rotation_at', '<', new Date())
          .executeTakeFirstOrThrow(),
        rotationsByStatus.execute(),
      ]);
      const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
      const states = toCounts(byState);
      const statuses = toCounts(byStatus);
      return {
        tenantId,
        secrets: { total: sum(states), byState: states, byType: toCounts(byType) },
        overdue: Number(overdue.n),
        rotations: { total: sum(statuses), byStatus: statuses },
      };
    },
  );

  app.get(
    '/api/v1/types',
    {
      schema: {
        summary: 'Every secret type with its default policy',
        response: {
          200: z.object({
            items: z.array(
              z.object({
                type: z.string(),
                /** False: the owner supplies each new value. */
                generated: z.boolean(),
                defaultPolicy: defaultPolicy,
              }),
            ),
          }),
        },
      },
    },
    (req) => {
      requireRole(req, ALL);
      return {
        items: SECRET_TYPES.map((type) => {
          const policy = DEFAULT_POLICIES[type];
          return {
            type,
            generated: policy.autoGenerate,
            // The defaults in force, including those applied when a policy leaves them out.
            defaultPolicy: {
              upcomingNoticeSeconds: DEFAULT_UPCOMING_NOTICE_SECONDS,
              allowValueRead: false,
              approval: DEFAULT_APPROVAL,
              ...policy,
            },
          };
        }),
      };
    },
  );

  const tenantRows = () =>
    db.selectFrom('tenants as t').select([
      't.id',
      't.name',
      't.notification_settings',
      't.created_at',
      (eb) =>
        eb
          .selectFrom('secrets as s')
          .select(sql<string>`count(*)`.as('n'))
          .whereRef('s.tenant_id', '=', 't.id')
          .as('secrets'),
    ]);
  type TenantRow = Awaited<ReturnType<ReturnType<typeof tenantRows>['executeTakeFirstOrThrow']>>;
  const tenantOf = (t: TenantRow): z.infer<typeof tenantView> => ({
    id: t.id,
    name: t.name,
    notificationSettings: settingsOf(t.notification_settings),
    secrets: Number(t.secrets ?? 0),
    createdAt: iso(t.created_at),
  });

  app.get(
    '/api/v1/tenants',
    {
      schema: {
        summary: 'Tenants with their notification settings (admin)',
        querystring: z.strictObject(pageQuery),
        response: {
          200: z.object({ items: z.array(tenantView), limit: z.number(), offset: z.number() }),
        },
      },
    },
    async (req) => {
      requireRole(req, [Role.Admin]);
      const rows = await tenantRows()
        .orderBy('t.id')
        .limit(req.query.limit)
        .offset(req.query.offset)
        .execute();
      return { items: rows.map(tenantOf), limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    '/api/v1/tenants/:tenantId',
    {
      schema: {
        summary: 'One tenant and its notification settings (admin, or the tenant itself)',
        params: z.object({ tenantId: nameParam }),
        response: { 200: tenantView },
      },
    },
    async (req) => {
      const principal = requireRole(req, [Role.Admin, Role.Tenant]);
      assertTenant(principal, req.params.tenantId);
      const row = await tenantRows().where('t.id', '=', req.params.tenantId).executeTakeFirst();
      if (!row) throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such tenant');
      return tenantOf(row);
    },
  );
}
