import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors';
import type { HealthCheck } from './health';
import { registerHealthRoutes } from './routes/health';

/** Fields pino replaces with [Redacted] wherever they appear in a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-vault-token"]',
  '*.password',
  '*.token',
  '*.secret',
  '*.value',
];

export interface AppOptions {
  checks: Record<string, HealthCheck>;
  logLevel?: string;
}

export function buildApp(options: AppOptions): FastifyInstance {
  const app = Fastify({
    logger: { level: options.logLevel ?? 'info', redact: REDACT_PATHS },
    bodyLimit: 64 * 1024,
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof ApiError) {
      return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const code = (err as { code?: string }).code ?? 'BAD_REQUEST';
      return reply.code(status).send({
        error: {
          code: `ROT_ERR_${code.replace(/^FST_ERR_/, '')}`,
          message: (err as Error).message,
        },
      });
    }
    // 5xx: log the detail server-side, tell the client nothing about internals.
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: { code: 'ROT_ERR_INTERNAL', message: 'Internal error' } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'ROT_ERR_NOT_FOUND', message: `No route ${req.method} ${req.url}` } }),
  );

  registerHealthRoutes(app, options.checks);
  return app;
}
