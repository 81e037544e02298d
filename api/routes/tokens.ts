import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { appendAudit } from '../../audit';
import type { Database } from '../../db';
import { Role } from '../../domain';
import { requireRole } from '../auth/access';
import { createToken } from '../auth/tokens';
import type { Principal } from '../auth/tokens';
import { ApiError } from '../errors';
import type { CredentialCache } from '../credential-cache';
import type { ApiServices } from '../services';
import { errorResponses, iso, nameParam, pageQuery } from './schemas';

/** The longest lifetime a token may be given: five years. */
const MAX_TTL_SECONDS = 157_680_000;
const ttl = z
  .number()
  .int()
  .min(60)
  .max(MAX_TTL_SECONDS)
  .describe('Seconds until the token stops working (default: ROTOR_TOKEN_TTL_SECONDS)');
const reason = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .refine(
    (v) => ![...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
    'must not contain control characters',
  );

const TokenStatus = { Active: 'active', Expired: 'expired', Revoked: 'revoked' } as const;
type TokenStatus = (typeof TokenStatus)[keyof typeof TokenStatus];
const STATUSES = [TokenStatus.Active, TokenStatus.Expired, TokenStatus.Revoked] as const;

/** What a listing shows of a token: never the token, never its hash; the prefix identifies it. */
const tokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  subject: z.string(),
  prefix: z.string(),
  role: z.string(),
  tenantId: z.string().nullable(),
  status: z.enum(STATUSES),
  createdAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
});

/** A new token, shown once: the only answer that ever carries one. */
const issued = z.object({
  id: z.string(),
  token: z.string(),
  subject: z.string(),
  role: z.string(),
  tenantId: z.string().nullable(),
  expiresAt: z.string().nullable(),
});

const tokenParams = z.object({ tokenId: z.uuid() });
const ADMIN = [Role.Admin] as const;

type TokenRow = {
  id: string;
  name: string;
  subject: string;
  prefix: string;
  role: string;
  tenant_id: string | null;
  created_at: Date | null;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
  now: Date;
};

const statusOf = (r: TokenRow): TokenStatus =>
  r.revoked_at !== null
    ? TokenStatus.Revoked
    : r.expires_at !== null && r.expires_at <= r.now
      ? TokenStatus.Expired
      : TokenStatus.Active;

const toInfo = (r: TokenRow): z.infer<typeof tokenInfo> => ({
  id: r.id,
  name: r.name,
  subject: r.subject,
  prefix: r.prefix,
  role: r.role,
  tenantId: r.tenant_id,
  status: statusOf(r),
  createdAt: iso(r.created_at),
  expiresAt: iso(r.expires_at),
  lastUsedAt: iso(r.last_used_at),
  revokedAt: iso(r.revoked_at),
  revokedBy: r.revoked_by,
});

function selectTokens(db: Kysely<Database> | Transaction<Database>) {
  return db
    .selectFrom('api_tokens')
    .select([
      'id',
      'name',
      'subject',
      'prefix',
      'role',
      'tenant_id',
      'created_at',
      'expires_at',
      'last_used_at',
      'revoked_at',
      'revoked_by',
      sql<Date>`now()`.as('now'),
    ]);
}

/** A token by id, locked for the rest of the transaction, or 404. */
async function lockedToken(trx: Transaction<Database>, id: string): Promise<TokenRow> {
  const row = await selectTokens(trx).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such token');
  return row;
}

/**
 * Refuses to leave no working admin token: revoking the last one would lock everyone out of
 * token management (the bootstrap token is only printed on a first start).
 */
async function assertAnotherAdmin(trx: Transaction<Database>, row: TokenRow): Promise<void> {
  if (row.role !== Role.Admin || statusOf(row) !== TokenStatus.Active) return;
  // Serialises concurrent revocations, so two admins cannot each revoke the other's last token.
  await sql`select pg_advisory_xact_lock(hashtext('rotor-admin-tokens'))`.execute(trx);
  const other = await trx
    .selectFrom('api_tokens')
    .select('id')
    .where('role', '=', Role.Admin)
    .where('id', '!=', row.id)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .executeTakeFirst();
  if (!other) {
    throw new ApiError(
      409,
      'ROT_ERR_LAST_ADMIN_TOKEN',
      'This is the last working admin token: rotate it instead, or create another admin token first',
    );
  }
}

const expiry = (seconds: number | null): Date | null =>
  seconds === null ? null : new Date(Date.now() + seconds * 1000);

const auditToken = (
  trx: Transaction<Database>,
  principal: Principal,
  action: string,
  row: { id: string; subject: string; role: string; tenant_id: string | null },
  details: Record<string, string | number | boolean | null>,
) =>
  appendAudit(trx, {
    tenantId: row.tenant_id,
    actor: principal.subject,
    action,
    outcome: 'success',
    details: { token: row.subject, role: row.role, ...details },
    idempotencyKey: `${action}:${row.id}`,
    origin: principal.origin,
  });

/**
 * API tokens (admin only): create with an expiry, list with last use, revoke, rotate. Every
 * change is audited with the admin's subject; no answer but create and rotate carries a token,
 * and neither stores one (they take no Idempotency-Key: replaying would mean storing the token).
 */
export function registerTokenRoutes(
  root: FastifyInstance,
  services: ApiServices,
  cache?: CredentialCache,
): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db, config } = services;

  app.post(
    '/api/v1/tokens',
    {
      schema: {
        summary:
          'Create an API token (admin). The token is shown once, only in this response; it expires after expiresInSeconds (default ROTOR_TOKEN_TTL_SECONDS).',
        body: z
          .strictObject({
            name: z.string().trim().min(1).max(100),
            role: z.enum([Role.Admin, Role.Security, Role.Operator, Role.Tenant]),
            tenantId: nameParam.optional(),
            expiresInSeconds: ttl.optional(),
          })
          .refine((b) => (b.role === Role.Tenant) === (b.tenantId !== undefined), {
            path: ['tenantId'],
            message: 'is required for tenant tokens and only for them',
          }),
        response: { 201: issued },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, ADMIN);
      const { name, role, tenantId } = req.body;
      const expiresAt = expiry(req.body.expiresInSeconds ?? config.api.tokenTtlSeconds);
      const created = await db.transaction().execute(async (trx) => {
        if (tenantId) {
          await trx
            .insertInto('tenants')
            .values({ id: tenantId, name: tenantId })
            .onConflict((oc) => oc.column('id').doNothing())
            .execute();
        }
        // Names may repeat; the subject is the unique identity the token acts as.
        const token = await createToken(trx, { name, role, tenantId: tenantId ?? null, expiresAt });
        await auditToken(
          trx,
          principal,
          'token.created',
          { id: token.id, subject: token.subject, role, tenant_id: tenantId ?? null },
          { expiresAt: iso(expiresAt) },
        );
        return token;
      });
      return reply.code(201).send({
        id: created.id,
        token: created.token,
        subject: created.subject,
        role,
        tenantId: tenantId ?? null,
        expiresAt: iso(expiresAt),
      });
    },
  );

  app.get(
    '/api/v1/tokens',
    {
      schema: {
        summary: 'API tokens (admin): who, role, status, expiry and last use; never the token',
        querystring: z.strictObject({
          tenantId: nameParam.optional(),
          role: z.enum([Role.Admin, Role.Security, Role.Operator, Role.Tenant]).optional(),
          status: z.enum(STATUSES).optional(),
          ...pageQuery,
        }),
        response: {
          200: z.object({
            items: z.array(tokenInfo),
            limit: z.number(),
            offset: z.number(),
          }),
        },
      },
    },
    async (req) => {
      requireRole(req, ADMIN);
      const q = req.query;
      let query = selectTokens(db)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(q.limit)
        .offset(q.offset);
      if (q.tenantId) query = query.where('tenant_id', '=', q.tenantId);
      if (q.role) query = query.where('role', '=', q.role);
      if (q.status === TokenStatus.Revoked) query = query.where('revoked_at', 'is not', null);
      if (q.status === TokenStatus.Expired) {
        query = query.where('revoked_at', 'is', null).where('expires_at', '<=', sql<Date>`now()`);
      }
      if (q.status === TokenStatus.Active) {
        query = query
          .where('revoked_at', 'is', null)
          .where((eb) =>
            eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]),
          );
      }
      const rows = await query.execute();
      return { items: rows.map(toInfo), limit: q.limit, offset: q.offset };
    },
  );

  app.post(
    '/api/v1/tokens/:tokenId/revoke',
    {
      schema: {
        summary:
          'Revoke an API token (admin): from its next request it gets 401 ROT_ERR_TOKEN_REVOKED. Revoking a revoked token is a no-op; the last working admin token cannot be revoked (409).',
        params: tokenParams,
        body: z.strictObject({ reason }),
        response: {
          200: z.object({ token: tokenInfo, alreadyRevoked: z.boolean() }),
          ...errorResponses(409),
        },
      },
    },
    async (req) => {
      const principal = requireRole(req, ADMIN);
      const answer = await db.transaction().execute(async (trx) => {
        const row = await lockedToken(trx, req.params.tokenId);
        if (row.revoked_at !== null) return { token: toInfo(row), alreadyRevoked: true };
        await assertAnotherAdmin(trx, row);
        const revoked = await trx
          .updateTable('api_tokens')
          .set({
            revoked_at: sql<Date>`now()`,
            revoked_by: principal.subject,
            revoked_reason: req.body.reason,
          })
          .where('id', '=', row.id)
          .returning(['revoked_at', 'revoked_by'])
          .executeTakeFirstOrThrow();
        await auditToken(trx, principal, 'token.revoked', row, { reason: req.body.reason });
        return { token: toInfo({ ...row, ...revoked }), alreadyRevoked: false };
      });
      // Committed: this process refuses the token from its next request, without waiting for
      // the notification (which tells the other API processes).
      cache?.invalidate(`token:${answer.token.id}`);
      return answer;
    },
  );

  app.post(
    '/api/v1/tokens/:tokenId/rotate',
    {
      schema: {
        summary:
          'Rotate an API token (admin), the bootstrap token included: a new token with the same name, role and tenant is shown once, and the old one is revoked in the same transaction. The new one never expires if the old one did not, unless expiresInSeconds is given.',
        params: tokenParams,
        body: z.strictObject({ reason, expiresInSeconds: ttl.optional() }),
        response: { 201: issued.extend({ replaces: z.string() }), ...errorResponses(409) },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, ADMIN);
      const answer = await db.transaction().execute(async (trx) => {
        const old = await lockedToken(trx, req.params.tokenId);
        if (old.revoked_at !== null) {
          throw new ApiError(
            409,
            'ROT_ERR_TOKEN_REVOKED',
            'This token is revoked: create a new one',
          );
        }
        const role = old.role as Role;
        const seconds =
          req.body.expiresInSeconds ??
          (old.expires_at === null ? null : config.api.tokenTtlSeconds);
        const expiresAt = expiry(seconds);
        const created = await createToken(trx, {
          name: old.name,
          role,
          tenantId: old.tenant_id,
          expiresAt,
        });
        await trx
          .updateTable('api_tokens')
          .set({
            revoked_at: sql<Date>`now()`,
            revoked_by: principal.subject,
            revoked_reason: `rotated: ${req.body.reason}`.slice(0, 500),
          })
          .where('id', '=', old.id)
          .execute();
        await auditToken(trx, principal, 'token.rotated', old, {
          reason: req.body.reason,
          replacedBy: created.subject,
          expiresAt: iso(expiresAt),
        });
        return {
          id: created.id,
          token: created.token,
          subject: created.subject,
          role,
          tenantId: old.tenant_id,
          expiresAt: iso(expiresAt),
          replaces: old.id,
        };
      });
      cache?.invalidate(`token:${answer.replaces}`);
      return reply.code(201).send(answer);
    },
  );
}
