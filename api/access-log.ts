import { LogController } from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * One access line per request, written when it is answered: who asked for what (fastify's
 * request serializer: method, URL, host, remote address; never a header or a body), the status,
 * Rotor's error code when there is one, and the time taken. Fastify's default writes two lines
 * per request ("incoming request", then "request completed"): the first says nothing the second
 * does not, and doubles the log volume at the default level `info` (and costs ~16 µs of CPU a
 * request, README "Metrics, logs").
 */
export class AccessLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const line = {
      req: request,
      res: reply,
      responseTime: reply.elapsedTime,
      ...(request.answerCode ? { code: request.answerCode } : {}),
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
