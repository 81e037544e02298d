import type { FastifyInstance } from 'fastify';
import { runChecks } from '../health';
import type { HealthCheck } from '../health';

export function registerHealthRoutes(
  app: FastifyInstance,
  checks: Record<string, HealthCheck>,
): void {
  // Liveness: the process answers; dependency status is reported but does not fail the probe.
  app.get('/healthz', async () => {
    const dependencies = await runChecks(checks);
    const allUp = Object.values(dependencies).every((d) => d.status === 'up');
    return { status: allUp ? 'ok' : 'degraded', dependencies };
  });
  // Readiness: 503 until every dependency answers, so a load balancer holds traffic back.
  app.get('/readyz', async (_req, reply) => {
    const dependencies = await runChecks(checks);
    const allUp = Object.values(dependencies).every((d) => d.status === 'up');
    return reply
      .code(allUp ? 200 : 503)
      .send({ status: allUp ? 'ready' : 'not_ready', dependencies });
  });
}
