import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { appendAudit } from '../../audit';
import {
  deleteConnection,
  findConnection,
  listConnections,
  readConnectionCredential,
  saveConnection,
} from '../../connections';
import {
  CONNECTION_KINDS,
  ConnectionKind,
  DEFAULT_CONNECTION,
  AWS_ACCESS_KEY_ID_PATTERN,
  AWS_REGION_PATTERN,
  HOST_PATTERN,
  NAME_PATTERN,
  Role,
  SecretState,
  TlsMode,
  hasControlCharacter,
} from '../../domain';
import type { ConnectionCredential, ConnectionSpec } from '../../domain';
import { probeConnection } from '../../engine';
import { requireRole } from '../auth/access';
import { ApiError } from '../errors';
import type { ApiServices } from '../services';
import { errorResponses } from './schemas';

const nameParam = z.object({
  name: z
    .string()
    .max(63)
    .regex(NAME_PATTERN, 'must be 1-63 of a-z, 0-9, ".", "_", "-", starting alphanumeric'),
});

const tlsSchema = z
  .strictObject({
    mode: z.enum([TlsMode.Disable, TlsMode.Require, TlsMode.VerifyFull]),
    caPem: z
      .string()
      .max(16_384, 'must be at most 16384 characters')
      .regex(/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/, 'must be PEM')
      .optional(),
    serverName: z.string().max(253).regex(HOST_PATTERN, 'must be a host name').optional(),
  })
  .refine((t) => t.mode !== TlsMode.Disable || (!t.caPem && !t.serverName), {
    path: ['mode'],
    message: 'must not be disable when caPem or serverName is set',
  });

/** An AWS-compatible endpoint: http(s), a host and maybe a port and path; nothing else. */
const endpointField = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .refine((v) => {
    try {
      const u = new URL(v);
      return (
        (u.protocol === 'http:' || u.protocol === 'https:') &&
        !u.username &&
        !u.password &&
        !u.search &&
        !u.hash &&
        HOST_PATTERN.test(u.hostname)
      );
    } catch {
      return false;
    }
  }, 'must be an http(s) URL with a host and no credentials, query or fragment');

const connectionBody = z
  .strictObject({
    kind: z.enum([
      ConnectionKind.Postgres,
      ConnectionKind.Redis,
      ConnectionKind.MariaDb,
      ConnectionKind.Aws,
    ]),
    /** The server's host; required except for aws (whose endpoint or AWS itself says where). */
    host: z.string().max(253).regex(HOST_PATTERN, 'must be a host name or IP address').optional(),
    port: z.number().int().min(1, 'must be 1-65535').max(65535, 'must be 1-65535').optional(),
    database: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[A-Za-z0-9_$-]+$/, 'must be a database name')
      .optional(),
    tls: tlsSchema.default({ mode: TlsMode.Disable }),
    /** An aws connection's region (required for aws). */
    region: z
      .string()
      .max(32)
      .regex(AWS_REGION_PATTERN, 'must be an AWS region name (e.g. us-east-1)')
      .optional(),
    /** An aws connection's AWS-compatible endpoint (moto, LocalStack); absent: AWS itself. */
    endpoint: endpointField.optional(),
    /**
     * Rotor's own login; written to Vault only. Required when the connection is new. For aws:
     * the access key id as username, the secret access key as password.
     */
    credential: z
      .strictObject({
        username: z
          .string()
          .min(1, 'must not be empty')
          .max(128, 'must be at most 128 characters')
          .refine((u) => !hasControlCharacter(u) && !/\s/.test(u), 'must not contain spaces'),
        password: z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 bytes'),
      })
      .optional(),
  })
  .superRefine((b, ctx) => {
    const issue = (field: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [field], message });
    if (b.kind !== ConnectionKind.Postgres && b.database !== undefined)
      issue('database', 'applies only to a postgres connection');
    if (b.kind === ConnectionKind.Aws) {
      if (b.region === undefined) issue('region', 'is required for an aws connection');
      for (const f of ['host', 'port'] as const)
        if (b[f] !== undefined) issue(f, 'does not apply to an aws connection (use endpoint)');
      if (b.tls.mode !== TlsMode.Disable)
        issue('tls', 'does not apply to an aws connection (an https endpoint is TLS)');
      if (b.credential && !AWS_ACCESS_KEY_ID_PATTERN.test(b.credential.username))
        issue('credential.username', 'must be an AWS access key id (16-128 of A-Z, 0-9)');
      return;
    }
    for (const f of ['region', 'endpoint'] as const)
      if (b[f] !== undefined) issue(f, 'applies only to an aws connection');
    if (b.host === undefined) issue('host', 'is required');
    if (b.port === undefined) issue('port', 'is required');
  });

/** host and port of an aws connection: its endpoint's, or AWS IAM's own. */
function awsHostPort(endpoint: string | undefined): { host: string; port: number } {
  if (!endpoint) return { host: 'iam.amazonaws.com', port: 443 };
  const u = new URL(endpoint);
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
}

const connectionView = z.object({
  name: z.string(),
  kind: z.enum(CONNECTION_KINDS as [string, ...string[]]),
  host: z.string(),
  port: z.number(),
  database: z.string().nullable(),
  tls: z.object({
    mode: z.string(),
    caPem: z.string().optional(),
    serverName: z.string().optional(),
  }),
  /** An aws connection's region and endpoint. */
  region: z.string().optional(),
  endpoint: z.string().optional(),
  /** Where Rotor's credential for it lives in Vault (the value is never shown). */
  credentialPath: z.string(),
  /** The connection built from ROTOR_TARGET_DATABASE_URL; not editable through the API. */
  builtIn: z.boolean(),
});

const probeView = z.object({
  ok: z.boolean(),
  checks: z.array(
    z.object({
      check: z.enum(['reach', 'login', 'privilege']),
      ok: z.boolean(),
      detail: z.string(),
    }),
  ),
  missingPrivilege: z.string().optional(),
});

/** The default connection, read from ROTOR_TARGET_DATABASE_URL (never its password). */
function defaultConnection(
  url: string | undefined,
): { spec: ConnectionSpec; credential: ConnectionCredential } | undefined {
  if (!url) return undefined;
  const parsed = new URL(url);
  const mode = parsed.searchParams.get('sslmode');
  return {
    spec: {
      name: DEFAULT_CONNECTION,
      kind: ConnectionKind.Postgres,
      host: parsed.hostname,
      port: Number(parsed.port || 5432),
      database: decodeURIComponent(parsed.pathname.slice(1)) || 'postgres',
      tls: {
        mode:
          mode === 'verify-full'
            ? TlsMode.VerifyFull
            : mode === 'require'
              ? TlsMode.Require
              : TlsMode.Disable,
      },
    },
    credential: {
      username: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
    },
  };
}

/**
 * Connections: target servers Rotor rotates credentials on (admin only; they are deployment
 * configuration, not a tenant's). Rotor's credential for each goes to Vault and is never returned.
 */
export function registerConnectionRoutes(root: FastifyInstance, services: ApiServices): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const { db } = services;
  const vault = () => {
    if (!services.vault) {
      throw new ApiError(503, 'ROT_ERR_NOT_CONFIGURED', 'Connections need Vault to be configured');
    }
    return services.vault;
  };
  const builtIn = () => defaultConnection(services.config.targets.postgresUrl);
  const view = (spec: ConnectionSpec, isBuiltIn = false) => ({
    name: spec.name,
    kind: spec.kind,
    host: spec.host,
    port: spec.port,
    database: spec.database,
    tls: spec.tls,
    ...(spec.aws
      ? { region: spec.aws.region, ...(spec.aws.endpoint ? { endpoint: spec.aws.endpoint } : {}) }
      : {}),
    credentialPath: isBuiltIn ? 'ROTOR_TARGET_DATABASE_URL' : `rotor-connections/${spec.name}`,
    builtIn: isBuiltIn,
  });
  const reserved = (name: string) => {
    if (name === DEFAULT_CONNECTION) {
      throw new ApiError(
        409,
        'ROT_ERR_CONNECTION_RESERVED',
        `The ${DEFAULT_CONNECTION} connection comes from ROTOR_TARGET_DATABASE_URL; choose another name`,
      );
    }
  };

  app.get(
    '/api/v1/connections',
    {
      schema: {
        summary: 'List connections (admin)',
        response: { 200: z.object({ connections: z.array(connectionView) }) },
      },
    },
    async (req) => {
      requireRole(req, [Role.Admin]);
      const dflt = builtIn();
      return {
        connections: [
          ...(dflt ? [view(dflt.spec, true)] : []),
          ...(await listConnections(db)).map((c) => view(c)),
        ],
      };
    },
  );

  app.get(
    '/api/v1/connections/:name',
    {
      schema: {
        summary: 'Show a connection (admin)',
        params: nameParam,
        response: { 200: connectionView, ...errorResponses(404) },
      },
    },
    async (req) => {
      requireRole(req, [Role.Admin]);
      const dflt = builtIn();
      if (req.params.name === DEFAULT_CONNECTION && dflt) return view(dflt.spec, true);
      const found = await findConnection(db, req.params.name);
      if (!found) throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such connection');
      return view(found);
    },
  );

  app.put(
    '/api/v1/connections/:name',
    {
      schema: {
        summary:
          'Create or replace a connection (admin). The credential goes to Vault only; it is required for a new connection and, when omitted on an update, the stored one is kept.',
        params: nameParam,
        body: connectionBody,
        response: { 200: connectionView, 201: connectionView, ...errorResponses(409, 503) },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, [Role.Admin]);
      reserved(req.params.name);
      const kv = vault();
      const { credential, ...rest } = req.body;
      const existing = await findConnection(db, req.params.name);
      if (!credential && !(await readConnectionCredential(kv, req.params.name))) {
        throw new ApiError(400, 'ROT_ERR_VALIDATION', 'invalid request', [
          { field: 'credential', message: 'is required for a new connection' },
        ]);
      }
      if (existing && existing.kind !== rest.kind) {
        throw new ApiError(
          409,
          'ROT_ERR_CONNECTION_KIND',
          'A connection cannot change its kind; delete it first',
        );
      }
      const aws = rest.kind === ConnectionKind.Aws;
      const at = aws ? awsHostPort(rest.endpoint) : { host: rest.host ?? '', port: rest.port ?? 0 };
      const spec: ConnectionSpec = {
        name: req.params.name,
        kind: rest.kind,
        ...at,
        database: rest.kind === ConnectionKind.Postgres ? (rest.database ?? 'postgres') : null,
        tls: rest.tls,
        ...(aws
          ? {
              aws: {
                region: rest.region ?? '',
                ...(rest.endpoint ? { endpoint: rest.endpoint } : {}),
              },
            }
          : {}),
      };
      const { created } = await saveConnection(db, kv, spec, credential, principal.subject);
      await appendAudit(db, {
        tenantId: null,
        actor: principal.subject,
        action: created ? 'connection.created' : 'connection.updated',
        outcome: 'success',
        details: {
          connection: spec.name,
          kind: spec.kind,
          host: spec.host,
          port: spec.port,
          credentialChanged: credential !== undefined,
        },
        idempotencyKey: `connection:${spec.name}:${randomUUID()}`,
        origin: principal.origin,
      });
      return reply.code(created ? 201 : 200).send(view(spec));
    },
  );

  app.delete(
    '/api/v1/connections/:name',
    {
      schema: {
        summary:
          'Delete a connection and its credential in Vault (admin). Refused with 409 ROT_ERR_CONNECTION_IN_USE while secrets that are not retired name it as their target.',
        params: nameParam,
        // 200 with a body rather than 204: an empty 204 cannot be documented as the JSON every
        // other answer is (the fuzz run's response-schema check holds the API to its document).
        response: {
          200: z.object({ name: z.string(), deleted: z.literal(true) }).describe('Deleted'),
          ...errorResponses(404, 409, 503),
        },
      },
    },
    async (req, reply) => {
      const principal = requireRole(req, [Role.Admin]);
      reserved(req.params.name);
      // Deleting it would leave these secrets failing at their next rotation.
      const { users } = await db
        .selectFrom('secrets')
        .select((eb) => eb.fn.countAll<string>().as('users'))
        .where('target_connection', '=', req.params.name)
        .where('state', '!=', SecretState.Retired)
        .executeTakeFirstOrThrow();
      if (Number(users) > 0) {
        throw new ApiError(
          409,
          'ROT_ERR_CONNECTION_IN_USE',
          `${users} secret(s) not retired name this connection as their target; retire them first`,
        );
      }
      if (!(await deleteConnection(db, vault(), req.params.name))) {
        throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such connection');
      }
      await appendAudit(db, {
        tenantId: null,
        actor: principal.subject,
        action: 'connection.deleted',
        outcome: 'info',
        details: { connection: req.params.name },
        idempotencyKey: `connection:${req.params.name}:${randomUUID()}`,
        origin: principal.origin,
      });
      return reply.code(200).send({ name: req.params.name, deleted: true as const });
    },
  );

  app.post(
    '/api/v1/connections/:name/test',
    {
      schema: {
        summary:
          'Test a connection without rotating anything (admin): reach the server, log in with the credential Vault holds, check the privileges rotation needs and name the missing one.',
        params: nameParam,
        response: { 200: probeView, ...errorResponses(404, 503) },
      },
    },
    async (req) => {
      requireRole(req, [Role.Admin]);
      const dflt = builtIn();
      if (req.params.name === DEFAULT_CONNECTION && dflt) {
        return probeConnection(dflt.spec, dflt.credential);
      }
      const found = await findConnection(db, req.params.name);
      if (!found) throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such connection');
      const stored = await readConnectionCredential(vault(), req.params.name);
      if (!stored) {
        return {
          ok: false,
          checks: [
            {
              check: 'login' as const,
              ok: false,
              detail: `no credential in Vault at rotor-connections/${req.params.name}`,
            },
          ],
        };
      }
      return probeConnection(found, stored.credential);
    },
  );
}
