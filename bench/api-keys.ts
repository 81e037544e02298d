import autocannon from 'autocannon';
import type { Kysely } from 'kysely';
import { lookupApiKey } from '../api-keys';
import type { Database } from '../db';

export interface VerifyRate {
  perSecond: number;
  p50: number;
  p99: number;
  total: number;
}

/**
 * Tenant API-key verification over HTTP: autocannon posts the key to
 * `/api/v1/api-keys/verify` with a tenant token, as a tenant's service would. The caller checks
 * once that the key verifies as valid; here any answer that is not a 2xx stops the run.
 */
export async function verifyOverHttp(options: {
  apiUrl: string;
  token: string;
  key: string;
  seconds: number;
  connections: number;
  /** Requests each connection sends before reading answers (1: none). */
  pipelining?: number;
}): Promise<VerifyRate> {
  const result = await autocannon({
    url: `${options.apiUrl}/api/v1/api-keys/verify`,
    method: 'POST',
    headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key: options.key }),
    connections: options.connections,
    pipelining: options.pipelining ?? 1,
    duration: options.seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(
      `API-key verification answered ${result.non2xx} non-2xx and ${result.errors} errors of ${result.requests.total}`,
    );
  }
  return {
    perSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
  };
}

/** The baseline: the same lookup, in this process, no HTTP and no token check. */
export async function verifyInProcess(options: {
  db: Kysely<Database>;
  pepper: string;
  key: string;
  seconds: number;
  connections: number;
}): Promise<VerifyRate> {
  const latencies: number[] = [];
  const until = Date.now() + options.seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      while (Date.now() < until) {
        const t0 = performance.now();
        const found = await lookupApiKey(options.db, options.pepper, options.key);
        if (!found) throw new Error('the in-process lookup did not find the key');
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? NaN;
  return {
    perSecond: latencies.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
    total: latencies.length,
  };
}
