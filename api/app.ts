import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { REDACT_PATHS } from '../logging';
import { identify } from './auth/tokens';
import {
  DEPENDENCY_RETRY_AFTER_SECONDS,
  DEPENDENCY_UNAVAILABLE_CODE,
  dependencyMessage,
  dependencyOutage,
} from './dependency-errors';
import { ApiError } from './errors';
import type { Issue } from './errors';
import { registerInputGuard } from './input-guard';
import { TAGS, registerErrorResponses } from './openapi';
import { cleanClientIp, cleanUserAgent } from '../domain';
import { AccessLogController } from './access-log';
import { AuthBurstDetector, DEFAULT_AUTH_BURST } from './auth-burst';
import { createApiMetrics } from './metrics';
import type { DependencyOutageCounter } from './metrics';
import type { HealthCheck } from './health';
import { ApiKeyUsage } from './api-key-usage';
import { CredentialCache } from './credential-cache';
import { registerAdminRoutes } from './routes/admin';
import { registerApiKeyRoutes } from './routes/api-keys';
import { registerApprovalRoutes } from './routes/approvals';
import { registerAuditRoutes } from './routes/audit';
import { registerBulkRoutes } from './routes/bulk';
import { registerConnectionRoutes } from './routes/connections';
import { registerHealthRoutes } from './routes/health';
import { registerImportRoutes } from './routes/imports';
import { registerReportRoutes } from './routes/reports';
import { registerReferenceRoutes } from './routes/reference';
import { registerRotationRoutes } from './routes/rotations';
import { registerSecretControlRoutes } from './routes/secret-control';
import { registerSecretPolicyRoutes } from './routes/secret-policy';
import { registerSecretValueRoutes } from './routes/secret-value';
import { registerSecretRoutes } from './routes/secrets';
import { registerSupplyRoutes } from './routes/supply';
import { registerTokenRoutes } from './routes/tokens';
import { registerWebhookRoutes } from './routes/webhooks';
import type { SecurityMetrics } from './security-metrics';
import type { ApiServices } from './services';

// One redaction list for the API and the worker (logging/redact.ts).
export { REDACT_PATHS };

export interface AppOptions {
  checks: Record<string, HealthCheck>;
  logLevel?: string;
  /** Where request and error lines go; stdout unless given (`npm start` also files them). */
  logStream?: DestinationStream;
  /** The engine's clients; without them only the health routes exist (probes, tests). */
  services?: ApiServices;
}

/** A coded error of Rotor's own (validation, refusal…): safe to show as it is. */
function ownError(
  err: unknown,
): { statusCode: number; code: string; message: string; issues?: Issue[] } | null {
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown; issues?: unknown };
  if (
    typeof e.code !== 'string' ||
    !e.code.startsWith('ROT_ERR_') ||
    typeof e.statusCode !== 'number'
  )
    return null;
  if (e.statusCode < 400 || e.statusCode >= 500) return null;
  return {
    statusCode: e.statusCode,
    code: e.code,
    message: String(e.message),
    ...(Array.isArray(e.issues) ? { issues: e.issues as Issue[] } : {}),
  };
}

export function buildApp(options: AppOptions): FastifyInstance {
  const trusted = options.services?.config.api.trustedProxies ?? [];
  const app = Fastify({
    // req.ip is X-Forwarded-For only when the socket's peer is one of these; else the peer itself.
    trustProxy: trusted.length > 0 ? trusted : false,
    logger: {
      level: options.logLevel ?? 'info',
      redact: REDACT_PATHS,
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    logController: new AccessLogController(),
    bodyLimit: 64 * 1024,
    // Errors the router raises before any route runs (a malformed URL, a path parameter over
    // 100 characters) get the same coded body as every other client error.
    frameworkErrors: (err, _req, reply) => {
      void (reply as FastifyReply).code(err.statusCode ?? 400).send({
        error: { code: `ROT_ERR_${err.code.replace(/^FST_ERR_/, '')}`, message: err.message },
      });
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const own =
      err instanceof ApiError
        ? {
            statusCode: err.statusCode,
            code: err.code,
            message: err.message,
            ...(err.issues ? { issues: err.issues } : {}),
          }
        : ownError(err);
    if (own) {
      req.answerCode = own.code;
      return reply.code(own.statusCode).send({ error: own });
    }
    if (err.validation) {
      // Request schema failures: each field and what is wrong, never the submitted value.
      const issues = err.validation.map((v) => ({
        field: [
          // "query", as the control-character guard names it, not fastify's "querystring".
          err.validationContext === 'querystring' ? 'query' : err.validationContext,
          ...String(v.instancePath ?? '')
            .split('/')
            .filter(Boolean),
        ]
          .filter(Boolean)
          .join('.'),
        message: v.message ?? 'is invalid',
      }));
      return reply
        .code(400)
        .send({ error: { code: 'ROT_ERR_VALIDATION', message: 'invalid request', issues } });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      const code = `ROT_ERR_${(err.code ?? 'BAD_REQUEST').replace(/^FST_ERR_/, '')}`;
      return reply.code(err.statusCode).send({ error: { code, message: err.message } });
    }
    // A dependency that is down is no bug and no client's fault: say which one, and when to
    // retry. The log line names its type only; Vault's message would name a path, pg's a host.
    const outage = dependencyOutage(err);
    if (outage) {
      req.answerCode = DEPENDENCY_UNAVAILABLE_CODE;
      app.dependencyOutage?.(outage.dependency);
      req.log.warn(
        { dependency: outage.dependency, errorKind: outage.kind },
        'dependency unavailable',
      );
      return reply
        .code(503)
        .header('retry-after', String(DEPENDENCY_RETRY_AFTER_SECONDS))
        .send({
          error: {
            code: DEPENDENCY_UNAVAILABLE_CODE,
            message: dependencyMessage(outage),
          },
        });
    }
    // 5xx: log the detail server-side, tell the client nothing about internals.
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: { code: 'ROT_ERR_INTERNAL', message: 'Internal error' } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: {
        code: 'ROT_ERR_NOT_FOUND',
        message: `No route ${req.method} ${req.url.split('?')[0]}`,
      },
    }),
  );

  // Both before any route: the guard refuses control characters in every request, and every
  // /api/v1 route documents (and serializes) its error answers with the shared error body.
  registerInputGuard(app);
  registerErrorResponses(app);
  registerHealthRoutes(app, options.checks);
  const services = options.services;
  if (!services) return app;

  void app.register(swagger, {
    openapi: {
      info: { title: 'Rotor API', version: '0.1.0', description: 'Secret rotation engine' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      tags: TAGS.map((t) => ({ ...t })),
    },
    transform: jsonSchemaTransform,
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  // Prometheus scrapes this unauthenticated, as is usual; it carries counts, never names or values.
  const { registry: metrics, security, dependencyOutage: outages } = createApiMetrics(services.db);
  app.decorate('securityMetrics', security);
  app.decorate('dependencyOutage', outages);
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );

  // Working tokens and API keys, verified once and kept for a few seconds: a change anywhere
  // drops them (LISTEN/NOTIFY), and nothing is served while the listener is down
  // (api/credential-cache.ts). Without a listener (tests, or a TTL of 0) every request reads.
  const credentials = new CredentialCache({
    ttlSeconds: services.config.api.credentialCacheSeconds ?? 0,
    ...(services.listenerClient ? { connect: services.listenerClient } : {}),
  });
  credentials.start();
  app.addHook('onClose', () => credentials.stop());
  app.decorate('credentialCache', credentials);

  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/api/')) return;
    // Who is calling from where: on every audit row this request causes, and in its hash.
    const origin = {
      ip: cleanClientIp(req.ip),
      userAgent: cleanUserAgent(req.headers['user-agent']),
    };
    // A revoked or expired token is refused from the first request after its change
    // notification (the next one when this process revoked it), or its expiry.
    const who = await identify(services.db, req.headers.authorization, credentials);
    if ('principal' in who) req.principal = { ...who.principal, origin };
    else {
      req.authRefusal = who.refused;
      req.refusedTokenId = who.tokenId;
    }
  });
  // Every 401/403 is counted, and repeated ones per token id or client IP are a burst: one
  // warning line (the token's id, never the token) and a counter an alert watches.
  const bursts = new AuthBurstDetector(services.config.api.authBurst ?? DEFAULT_AUTH_BURST);
  const countRefusal = (req: FastifyRequest, status: 401 | 403): void => {
    security.authRefused(status, req.answerCode ?? `HTTP_${status}`);
    const tokenId = req.principal?.tokenId ?? req.refusedTokenId;
    const ip = cleanClientIp(req.ip);
    for (const burst of bursts.record({ tokenId, ip })) {
      security.burst(burst.by);
      req.log.warn(
        {
          authBurst: {
            by: burst.by,
            ...(burst.by === 'token' ? { tokenId: burst.key } : { ip: burst.key }),
            refusals: burst.count,
            windowSeconds: burst.windowSeconds,
          },
        },
        `repeated 401/403 answers for one ${burst.by === 'token' ? 'token' : 'client IP'}`,
      );
    }
  };
  // Callback style, not async: it runs after every answer, and for most has nothing to do.
  app.addHook('onResponse', (req, reply, done) => {
    const status = reply.statusCode;
    if ((status === 401 || status === 403) && req.url.startsWith('/api/')) {
      try {
        countRefusal(req, status);
      } catch (err) {
        req.log.error({ err }, 'counting a refused request failed');
      }
    }
    done();
  });
  const usage = new ApiKeyUsage(services.db);
  usage.start(services.config.targets.apiKeyUsageFlushSeconds);
  app.addHook('onClose', () => usage.stop());
  app.decorate('apiKeyUsage', usage);
  void app.register((scope, _opts, done) => {
    registerSecretRoutes(scope, services);
    registerApiKeyRoutes(scope, services, usage, credentials);
    registerSupplyRoutes(scope, services);
    registerApprovalRoutes(scope, services);
    registerAdminRoutes(scope, services);
    registerTokenRoutes(scope, services, credentials);
    registerWebhookRoutes(scope, services);
    registerBulkRoutes(scope, services);
    registerAuditRoutes(scope, services);
    registerReportRoutes(scope, services);
    registerRotationRoutes(scope, services);
    registerReferenceRoutes(scope, services);
    registerSecretPolicyRoutes(scope, services);
    registerSecretValueRoutes(scope, services, security);
    registerSecretControlRoutes(scope, services);
    registerConnectionRoutes(scope, services);
    registerImportRoutes(scope, services);
    done();
  });
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Batched API-key usage counts; tests flush it to read them back. */
    apiKeyUsage?: ApiKeyUsage;
    /** Verified tokens and API keys (api/credential-cache.ts); tests read its state. */
    credentialCache?: CredentialCache;
    /** The counters of what this process refused. */
    securityMetrics?: SecurityMetrics;
    /** Counts a request answered 503 because a dependency was down. */
    dependencyOutage?: DependencyOutageCounter;
  }
  interface FastifyRequest {
    /** The ROT_ERR_ code this request was answered with, when it was an error of Rotor's own. */
    answerCode?: string;
    /** The id (never the token) of a revoked or expired token this request presented. */
    refusedTokenId?: string | undefined;
  }
}
